// Package soundtest is a fake sound.Device that records what was played,
// for tests of what the kiosk says and when.
package soundtest

import (
	"sync"
	"time"

	"github.com/nhikiosk/nhikiosk/sound"
)

// Device records frames written to it. It plays nothing and never blocks
// beyond its lock. It is safe for concurrent use.
type Device struct {
	// F is the format it claims (48 kHz stereo if zero).
	F sound.Format

	mu      sync.Mutex
	frames  []int16
	drops   int
	drains  int
	closed  bool
	writes  []time.Time
	written chan struct{}
}

// Format returns F.
func (d *Device) Format() sound.Format {
	if d.F.Rate == 0 {
		return sound.Format{Rate: 48000, Channels: 2}
	}
	return d.F
}

// Write records frames.
func (d *Device) Write(frames []int16) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return 0, sound.ErrNoDevice
	}
	d.frames = append(d.frames, frames...)
	d.writes = append(d.writes, time.Now())
	if d.written != nil {
		select {
		case d.written <- struct{}{}:
		default:
		}
	}
	return len(frames) / d.Format().Channels, nil
}

// Drop counts a drop.
func (d *Device) Drop() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.drops++
	return nil
}

// Drain counts a drain.
func (d *Device) Drain() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.drains++
	return nil
}

// Close makes further writes fail.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	return nil
}

// Frames returns a copy of every sample written so far.
func (d *Device) Frames() []int16 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]int16(nil), d.frames...)
}

// Drops returns how many times the queue was dropped (speech
// interrupted).
func (d *Device) Drops() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.drops
}

// Reset forgets what was written.
func (d *Device) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.frames, d.writes, d.drops, d.drains = nil, nil, 0, 0
}

// Written returns a channel that receives (without blocking the writer)
// after each write: a test waits on it for speech to start.
func (d *Device) Written() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.written == nil {
		d.written = make(chan struct{}, 1)
	}
	return d.written
}
