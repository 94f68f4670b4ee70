//go:build cgo

package pcsc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ebfe/scard"

	"github.com/nhikiosk/nhikiosk/reader"
)

// cancelRetry is how often SCardCancel is repeated once ctx has ended, in
// case the first landed just before the watch blocked again.
const cancelRetry = 100 * time.Millisecond

// Run implements reader.Device. It blocks in SCardGetStatusChange with no
// timeout on every watched reader plus the PnP pseudo-reader, and wakes
// only when pcscd reports a change; when ctx ends, SCardCancel wakes it.
func (d *Device) Run(ctx context.Context) error {
	defer close(d.events)
	sc, err := scard.EstablishContext()
	if err != nil {
		return fmt.Errorf("watch readers: connect to pcscd: %w", mapErr(err, reader.ErrNoReader))
	}
	exited := make(chan struct{})
	cancelled := make(chan struct{})
	go func() {
		defer close(cancelled)
		select {
		case <-exited:
			return
		case <-ctx.Done():
		}
		for {
			_ = sc.Cancel()
			select {
			case <-exited:
				return
			case <-time.After(cancelRetry):
			}
		}
	}()
	defer func() {
		close(exited)
		<-cancelled
		sc.Release()
	}()
	w := &watch{d: d, sc: sc}
	return w.run(ctx)
}

// watch is the state of one Run.
type watch struct {
	d       *Device
	sc      *scard.Context
	readers []string
	states  []scard.ReaderState // [0] is the PnP pseudo-reader
}

func (w *watch) run(ctx context.Context) error {
	if err := w.relist(ctx); err != nil {
		return done(ctx, err)
	}
	for {
		err := w.sc.GetStatusChange(w.states, -1)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err == nil, errors.Is(err, scard.ErrTimeout):
		case errors.Is(err, scard.ErrUnknownReader), errors.Is(err, scard.ErrReaderUnavailable):
			// A reader left before the PnP notice: list again.
			if err := w.relist(ctx); err != nil {
				return done(ctx, err)
			}
			continue
		default:
			return fmt.Errorf("watch readers: %w", mapErr(err, nil))
		}
		if err := w.changed(ctx); err != nil {
			return done(ctx, err)
		}
	}
}

// changed reports the card events of every reader whose state changed,
// then lists readers again if the PnP pseudo-reader changed.
func (w *watch) changed(ctx context.Context) error {
	relist := w.states[0].EventState&stateChanged != 0
	w.states[0].CurrentState = w.states[0].EventState
	for i := 1; i < len(w.states); i++ {
		s := &w.states[i]
		if s.EventState&stateChanged == 0 {
			continue
		}
		old, now := uint32(s.CurrentState), uint32(s.EventState)
		s.CurrentState = s.EventState
		if gone(now) {
			relist = true
			continue
		}
		for _, ev := range cardEvents(s.Reader, old, now, s.Atr) {
			if err := w.send(ctx, ev); err != nil {
				return err
			}
		}
	}
	if relist {
		return w.relist(ctx)
	}
	return nil
}

// relist lists the readers, reports those that came and went, and builds
// the states to watch, keeping what is known of readers that stayed (a
// new reader starts unaware, so its card, if any, is reported next).
func (w *watch) relist(ctx context.Context) error {
	all, err := listReaders(w.sc)
	if err != nil {
		return err
	}
	names := w.d.opts.filter(all)
	known := map[string]scard.ReaderState{}
	for _, s := range w.states[min(1, len(w.states)):] {
		known[s.Reader] = s
	}
	hadCard := func(r string) bool { return present(uint32(known[r].CurrentState)) }
	for _, ev := range readerEvents(w.readers, names, hadCard) {
		if err := w.send(ctx, ev); err != nil {
			return err
		}
	}
	pnp := scard.ReaderState{Reader: pnpReader, CurrentState: scard.StateUnaware}
	if len(w.states) > 0 {
		pnp = w.states[0]
	}
	states := []scard.ReaderState{pnp}
	for _, n := range names {
		s, ok := known[n]
		if !ok {
			s = scard.ReaderState{Reader: n, CurrentState: scard.StateUnaware}
		}
		states = append(states, s)
	}
	w.readers, w.states = names, states
	return nil
}

func (w *watch) send(ctx context.Context, ev reader.Event) error {
	select {
	case w.d.events <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// done turns an error seen while ctx ended into the clean nil Run returns.
func done(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
