package appliance

import (
	"context"
	"image"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
	"github.com/nhikiosk/nhikiosk/display/headless"
)

// TestRunSleepsBetweenSessions runs the kiosk for real and watches its
// clock: on the attract screen between sessions nothing reads it (no
// tick, the UI loop sleeps: issue 18); in a session the machine ticks;
// after the session and the "card removed" screen it sleeps again.
func TestRunSleepsBetweenSessions(t *testing.T) {
	var reads atomic.Int64
	now := func() time.Time { reads.Add(1); return time.Now() }
	ui, err := display.New(display.Options{Font: displaytest.Font(t), Catalog: display.NewCatalog(), Size: image.Pt(800, 480), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKiosk(ui, Options{IdleTimeout: time.Minute, WarningCountdown: 20 * time.Second,
		RemovedScreen: 300 * time.Millisecond, MaxDuration: 20 * time.Minute, Now: now,
		Log: slog.New(slog.DiscardHandler), Card: &fakeCard{}, Upstream: newFakeUpstream()})
	if err != nil {
		t.Fatal(err)
	}
	cards := make(chan Event)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx, headless.New(image.Pt(800, 480)), cards) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	screen := func() ScreenID {
		got := make(chan ScreenID)
		k.ui.Do(func() { got <- k.m.Screen() })
		return <-got
	}
	waitFor := func(s ScreenID) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); screen() != s; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("screen %s, want %s", screen(), s)
			}
		}
	}
	quiet := func(when string) {
		t.Helper()
		screen() // everything queued is handled
		n := reads.Load()
		time.Sleep(600 * time.Millisecond)
		if d := reads.Load() - n; d != 0 {
			t.Errorf("%s: the machine's clock was read %d times in 600 ms, want none", when, d)
		}
	}
	waitFor(ScreenAttract)
	quiet("attract at start")

	cards <- CardInserted{}
	waitFor(ScreenMenu)
	n := reads.Load()
	time.Sleep(600 * time.Millisecond)
	if d := reads.Load() - n; d < 2 {
		t.Errorf("in a session the clock was read %d times in 600 ms, want it ticking (4 a second)", d)
	}

	cards <- CardRemoved{}
	waitFor(ScreenRemoved)
	waitFor(ScreenAttract) // the removed screen timed out: the clock ran
	quiet("attract after a session")
}
