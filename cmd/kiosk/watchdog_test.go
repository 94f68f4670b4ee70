package main

import (
	"context"
	"errors"
	"image"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
	"github.com/nhikiosk/nhikiosk/display/headless"
	"github.com/nhikiosk/nhikiosk/panel"
)

// TestWatchUIStalled: a UI whose loop does not run makes watchUI return
// panel.ErrStalled.
func TestWatchUIStalled(t *testing.T) {
	h := displaytest.New(t, image.Pt(320, 240), display.NewCatalog(), display.DefaultTheme(), "en")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := watchUI(ctx, h.UI, 200*time.Millisecond); !errors.Is(err, panel.ErrStalled) {
		t.Fatalf("watchUI on a UI that never runs: %v, want ErrStalled", err)
	}
}

// TestWatchUIRunning: while the UI loop runs, watchUI keeps quiet for
// many timeouts and returns nil when ctx ends.
func TestWatchUIRunning(t *testing.T) {
	h := displaytest.New(t, image.Pt(320, 240), display.NewCatalog(), display.DefaultTheme(), "en")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.UI.Run(ctx, headless.New(image.Pt(320, 240))) }()
	watched := make(chan error, 1)
	go func() { watched <- watchUI(ctx, h.UI, time.Second) }()
	select {
	case err := <-watched:
		t.Fatalf("watchUI returned %v while the UI ran", err)
	case <-time.After(4 * time.Second):
	}
	cancel()
	if err := <-watched; err != nil {
		t.Errorf("watchUI after ctx ended: %v, want nil", err)
	}
	if err := <-done; err != nil {
		t.Errorf("UI.Run: %v", err)
	}
}
