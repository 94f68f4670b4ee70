package main

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/panel"
)

// uiStallTimeout is how long the UI loop may go without running a queued
// function before the kiosk exits (and gokrazy restarts it). A card read
// or an upstream call never runs on the UI loop, so only a hang gets
// near it.
const uiStallTimeout = 30 * time.Second

// watchUI returns when ctx ends (nil) or when ui's loop stopped running
// what is queued on it for timeout (an error wrapping panel.ErrStalled).
// The beat is queued with ui.Do four times per timeout, at most one at a
// time, so it proves the loop itself is turning.
func watchUI(ctx context.Context, ui *display.UI, timeout time.Duration) error {
	w := panel.NewWatchdog(timeout)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		t := time.NewTicker(timeout / 4)
		defer t.Stop()
		var pending atomic.Bool
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if pending.Swap(true) {
				continue // the last beat has not run yet
			}
			// Do blocks while the loop is stuck; the kiosk then exits
			// through the watchdog, taking this goroutine with it.
			go ui.Do(func() { pending.Store(false); w.Beat() })
		}
	}()
	return w.Run(ctx)
}
