package panel

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWatchdogFiresWhenStalled(t *testing.T) {
	w := NewWatchdog(40 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Run(ctx); !errors.Is(err, ErrStalled) {
		t.Fatalf("Run without beats = %v, want ErrStalled", err)
	}
}

func TestWatchdogQuietWhileBeating(t *testing.T) {
	w := NewWatchdog(time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	// Beat well inside the timeout for two timeouts' worth of time.
	for range 100 {
		w.Beat()
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run while beating = %v, want nil", err)
	}
}
