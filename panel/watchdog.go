package panel

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ErrStalled means a watched loop stopped beating. The kiosk exits on it so
// gokrazy restarts the program (gokrazy itself feeds the hardware
// watchdog, which covers a hung kernel, not a hung UI loop).
var ErrStalled = errors.New("panel: loop stalled")

// Watchdog notices a loop that stops making progress: the loop calls Beat
// once per iteration, and Run returns ErrStalled when no beat came for the
// timeout. Beat is safe to call from any goroutine and never blocks.
type Watchdog struct {
	timeout time.Duration
	last    atomic.Int64 // unix nanoseconds of the last beat
}

// NewWatchdog returns a watchdog that fires after timeout without a beat.
// The clock starts now.
func NewWatchdog(timeout time.Duration) *Watchdog {
	w := &Watchdog{timeout: timeout}
	w.Beat()
	return w
}

// Beat records progress.
func (w *Watchdog) Beat() { w.last.Store(time.Now().UnixNano()) }

// Run checks four times per timeout until ctx ends (nil) or the loop
// stalls (an error wrapping ErrStalled that says for how long).
func (w *Watchdog) Run(ctx context.Context) error {
	t := time.NewTicker(w.timeout / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			if since := now.Sub(time.Unix(0, w.last.Load())); since > w.timeout {
				return fmt.Errorf("%w: no progress for %v", ErrStalled, since.Round(time.Millisecond))
			}
		}
	}
}
