package uevent

import (
	"context"
	"errors"
	"sync"
)

// Mux shares one Source (one netlink socket) among several followers: the
// card readers' monitor and the touch devices' watcher each Subscribe and
// each get every event from then on. The Source is opened by the first
// subscription and closed when the last one closes.
type Mux struct {
	open func() (Source, error)

	mu     sync.Mutex
	subs   map[*sub]struct{}
	cancel context.CancelFunc // stops the pump; nil while no Source is open
}

// subBuffer is how many events a subscriber may fall behind before it
// is told to rescan (ErrOverflow).
const subBuffer = 256

// NewMux returns a Mux over the Sources open returns (Netlink on the
// appliance).
func NewMux(open func() (Source, error)) *Mux {
	return &Mux{open: open, subs: make(map[*sub]struct{})}
}

// Subscribe returns a Source delivering every event the shared Source
// reads from now on. The first subscription opens the shared Source (and
// fails if it cannot be opened). Subscribe before scanning what you
// follow, so nothing plugged in between the scan and the first Next is
// missed.
func (m *Mux) Subscribe() (Source, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cancel == nil {
		// A previous Source may still be closing (its pump stops within
		// a Next); it no longer delivers to anyone.
		src, err := m.open()
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithCancel(context.Background())
		m.cancel = cancel
		go m.pump(ctx, src)
	}
	s := &sub{m: m, ch: make(chan Event, subBuffer), closed: make(chan struct{})}
	m.subs[s] = struct{}{}
	return s, nil
}

// pump reads the shared Source and hands each event to every subscriber
// without waiting: one that is behind loses events and is told so.
func (m *Mux) pump(ctx context.Context, src Source) {
	defer src.Close()
	for {
		ev, err := src.Next(ctx)
		m.mu.Lock()
		if ctx.Err() != nil { // cancelled under the lock: nobody is left
			m.mu.Unlock()
			return
		}
		for s := range m.subs {
			s.deliver(ev, err)
		}
		broken := err != nil && !errors.Is(err, ErrOverflow)
		if broken {
			// Every subscriber has been told; a new one opens a new
			// Source.
			m.cancel()
			m.cancel = nil
		}
		m.mu.Unlock()
		if broken {
			return
		}
	}
}

func (m *Mux) unsubscribe(s *sub) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.subs, s)
	if len(m.subs) == 0 && m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
}

// sub is one subscriber's view of a Mux.
type sub struct {
	m      *Mux
	ch     chan Event
	once   sync.Once
	closed chan struct{}

	mu   sync.Mutex
	lost bool
	err  error // the shared Source failed
}

// deliver queues ev, or notes the loss (err ErrOverflow, or a full
// queue) or the failure. Called with the Mux locked.
func (s *sub) deliver(ev Event, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case errors.Is(err, ErrOverflow):
		s.lost = true
	case err != nil:
		s.err = err
	default:
		select {
		case s.ch <- ev:
			return
		default:
			s.lost = true
		}
	}
	// Wake a Next that waits.
	select {
	case s.ch <- Event{}:
	default:
	}
}

// Next implements Source. After a loss it drops what it had queued (older
// than the loss) and returns ErrOverflow once: the rescan that follows sees
// the devices as they are now.
func (s *sub) Next(ctx context.Context) (Event, error) {
	for {
		s.mu.Lock()
		lost, err := s.lost, s.err
		if lost {
			s.lost = false
			for len(s.ch) > 0 {
				<-s.ch
			}
		}
		s.mu.Unlock()
		switch {
		case lost:
			return Event{}, ErrOverflow
		case err != nil:
			return Event{}, err
		}
		select {
		case ev := <-s.ch:
			if ev.Action == "" {
				continue // a wake-up
			}
			return ev, nil
		case <-s.closed:
			return Event{}, errors.New("uevent: subscription closed")
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// Close ends the subscription; the last one closes the shared Source.
func (s *sub) Close() error {
	s.once.Do(func() {
		close(s.closed)
		s.m.unsubscribe(s)
	})
	return nil
}
