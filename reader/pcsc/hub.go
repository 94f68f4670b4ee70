//go:build cgo && !nopcsc

package pcsc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ebfe/scard"

	"github.com/nhikiosk/nhikiosk/reader"
)

// libpcsclite (1.9.9, Debian 12) keeps the reader states it reads from
// pcscd in one table per process, which every SCardGetStatusChange,
// SCardStatus and SCardListReaders of every context rewrites without a
// lock. Two goroutines calling it at once tear each other's view: a
// watcher then sees a reader vanish or a card's event counter drop to 0,
// and would report a card removed that never moved. So every PC/SC call of
// this process goes through one goroutine, the hub: it watches for all
// Devices, runs their reads between two waits, and stops when nobody
// needs it.
var theHub hub

// A waiting caller repeats SCardCancel, starting after firstRetry and
// doubling up to maxRetry: libpcsclite only honours a cancel once
// SCardGetStatusChange has asked pcscd for the states and is waiting, so a
// cancel sent as the hub goes back to wait (which is when reads come back
// to back) is lost.
const (
	firstRetry = 200 * time.Microsecond
	maxRetry   = 50 * time.Millisecond
)

// awaitGrace is how long hub.await waits for the network before it
// watches the readers: watching costs an SCardGetStatusChange and an
// SCardCancel per request, about as long as a request on loopback.
const awaitGrace = 50 * time.Millisecond

type hub struct {
	mu      sync.Mutex
	running bool
	sc      *scard.Context // the hub's context while running
	jobs    []*job
	subs    map[*sub]bool
	// w is the hub goroutine's record of the readers: the loop's, and a
	// job's (jobs run on the hub goroutine) while it awaits the network.
	w *watch
}

// job is work for the hub goroutine; err is why it cannot have a context.
type job struct {
	f       func(sc *scard.Context, err error)
	started chan struct{}
	done    chan struct{}
}

func (j *job) run(sc *scard.Context, err error) {
	close(j.started)
	j.f(sc, err)
	close(j.done)
}

// sub is one Device's Run: its view of the readers and the events not yet
// taken by Run, or the error that ended the watch.
type sub struct {
	view  view
	mu    sync.Mutex
	queue []reader.Event
	err   error
	wake  chan struct{}
}

func (s *sub) push(evs []reader.Event, err error) {
	if len(evs) == 0 && err == nil {
		return
	}
	s.mu.Lock()
	s.queue = append(s.queue, evs...)
	if err != nil && s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// do runs f on the hub goroutine and waits for it. It wakes the hub out
// of its wait with SCardCancel, repeated until f has started.
func (h *hub) do(f func(sc *scard.Context, err error)) {
	j := &job{f: f, started: make(chan struct{}), done: make(chan struct{})}
	h.mu.Lock()
	h.jobs = append(h.jobs, j)
	h.start()
	h.mu.Unlock()
	for wait := firstRetry; ; wait = min(2*wait, maxRetry) {
		h.cancel()
		select {
		case <-j.started:
			<-j.done
			return
		case <-time.After(wait):
		}
	}
}

func (h *hub) cancel() {
	h.mu.Lock()
	sc := h.sc
	h.mu.Unlock()
	if sc != nil {
		_ = sc.Cancel()
	}
}

// subscribe adds s; the hub then reports the present state to it.
func (h *hub) subscribe(s *sub) {
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*sub]bool{}
	}
	h.subs[s] = true
	h.mu.Unlock()
	h.do(func(*scard.Context, error) {}) // one round, so s gets its first snapshot
}

func (h *hub) unsubscribe(s *sub) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
	h.cancel() // the hub may stop if s was the last
}

// start launches the hub goroutine; h.mu is held.
func (h *hub) start() {
	if h.running {
		return
	}
	h.running = true
	sc, err := scard.EstablishContext()
	if err != nil {
		err = fmt.Errorf("connect to pcscd: %w", mapErr(err, reader.ErrNoReader))
		go h.fail(err)
		return
	}
	h.sc = sc
	go h.loop(sc)
}

// fail runs every queued job with err and tells every watcher, then stops.
func (h *hub) fail(err error) {
	for {
		h.mu.Lock()
		jobs := h.jobs
		h.jobs = nil
		if len(jobs) == 0 {
			for s := range h.subs {
				s.push(nil, err)
				delete(h.subs, s)
			}
			h.running, h.sc = false, nil
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		for _, j := range jobs {
			j.run(nil, err)
		}
	}
}

// loop is the hub goroutine: wait for a change (or only look, when jobs
// are queued), tell every watcher, run the jobs; stop when there are no
// watchers and no jobs.
func (h *hub) loop(sc *scard.Context) {
	w := &watch{sc: sc}
	h.w = w
	for {
		h.mu.Lock()
		jobs := h.jobs
		h.jobs = nil
		idle := len(jobs) == 0 && len(h.subs) == 0
		if idle {
			h.running, h.sc = false, nil
			h.mu.Unlock()
			sc.Release()
			return
		}
		h.mu.Unlock()
		timeout := time.Duration(-1) // wait for pcscd
		if len(jobs) > 0 {
			timeout = 0 // only look
		}
		snap, err := w.look(timeout)
		if err != nil {
			h.mu.Lock()
			h.sc = nil
			h.mu.Unlock()
			sc.Release()
			for _, j := range jobs {
				j.run(nil, err)
			}
			h.fail(err)
			return
		}
		h.publish(snap)
		for _, j := range jobs {
			j.run(sc, nil)
		}
	}
}

// publish hands snap to every watcher.
func (h *hub) publish(snap snapshot) {
	h.mu.Lock()
	for s := range h.subs {
		s.push(s.view.update(snap), nil)
	}
	h.mu.Unlock()
}

// await runs wait (a request to the upstream, during a card check) on
// another goroutine while the hub goroutine, inside the job that holds
// t's transaction, goes on watching every reader: watchers get their
// events as they happen, and t's card leaving (or its reader) cancels
// wait and ends the check at once. The transaction stays held, so no
// other program's command reaches the card between the rounds of the
// exchange (docs/reader.md). When wait returns, its goroutine wakes the
// hub out of SCardGetStatusChange with SCardCancel, repeated as do's.
func (h *hub) await(ctx context.Context, t *transport, wait func(context.Context) error) error {
	w := h.w
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	woken, watching := make(chan struct{}), make(chan struct{})
	defer close(woken)
	go func() {
		done <- wait(ctx)
		select {
		case <-watching:
		case <-woken:
			return
		}
		for d := firstRetry; ; d = min(2*d, maxRetry) {
			_ = t.sc.Cancel()
			select {
			case <-woken:
				return
			case <-time.After(d):
			}
		}
	}()
	// An answer within awaitGrace (the usual case: loopback, a near
	// upstream) never wakes pcscd; a card pulled meanwhile is noticed at
	// most that much later, well within pcscd's own 0.4 s.
	select {
	case err := <-done:
		return err
	case <-time.After(awaitGrace):
	}
	close(watching)
	for {
		select {
		case err := <-done:
			return err
		default:
		}
		snap, err := w.look(-1)
		var left error
		if err == nil {
			h.publish(snap)
			left = t.left(snap)
		}
		if err == nil && left == nil {
			continue
		}
		select {
		case werr := <-done: // it ended meanwhile: its answer stands
			return werr
		default:
		}
		cancel()
		<-done
		if err != nil {
			return fmt.Errorf("watch the card while waiting on the network: %w", err)
		}
		return fmt.Errorf("while waiting on the network: %w", left)
	}
}

// watch is the hub's own record of the readers and their states.
type watch struct {
	sc      *scard.Context
	readers []string
	states  []scard.ReaderState // [0] is the PnP pseudo-reader
}

// look waits up to timeout (negative: until pcscd reports a change or
// SCardCancel) and returns what pcscd says now. Listing readers again
// when the PnP pseudo-reader or a reader says the list changed.
func (w *watch) look(timeout time.Duration) (snapshot, error) {
	if w.states == nil {
		if err := w.relist(); err != nil {
			return snapshot{}, err
		}
		timeout = 0
	}
	err := w.sc.GetStatusChange(w.states, timeout)
	switch {
	case err == nil:
	case errors.Is(err, scard.ErrTimeout), errors.Is(err, scard.ErrCancelled):
		return w.snapshot(), nil
	case errors.Is(err, scard.ErrUnknownReader), errors.Is(err, scard.ErrReaderUnavailable):
		return w.snapshot(), w.relist()
	default:
		return snapshot{}, fmt.Errorf("watch readers: %w", mapErr(err, nil))
	}
	relist := w.states[0].EventState&stateChanged != 0
	for i := range w.states {
		s := &w.states[i]
		if i > 0 && gone(uint32(s.EventState)) {
			relist = true
		}
		s.CurrentState = s.EventState
	}
	snap := w.snapshot()
	if relist {
		return snap, w.relist()
	}
	return snap, nil
}

func (w *watch) snapshot() snapshot {
	s := snapshot{readers: w.readers, states: map[string]uint32{}, atrs: map[string][]byte{}}
	for _, st := range w.states[1:] {
		s.states[st.Reader] = uint32(st.CurrentState)
		s.atrs[st.Reader] = st.Atr
	}
	return s
}

// relist lists the readers, keeping the states of those that stayed; a
// new reader starts unaware, so the next look reports it at once.
func (w *watch) relist() error {
	all, err := listReaders(w.sc)
	if err != nil {
		return err
	}
	names := Options{}.filter(all)
	known := map[string]scard.ReaderState{}
	if len(w.states) > 0 {
		for _, s := range w.states[1:] {
			known[s.Reader] = s
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

// Run implements reader.Device: it subscribes to the hub, which blocks in
// SCardGetStatusChange with no timeout on every reader plus the PnP
// pseudo-reader and wakes only when pcscd reports a change (or SCardCancel
// when ctx ends or a read is due).
func (d *Device) Run(ctx context.Context) error {
	defer close(d.events)
	s := &sub{view: view{opts: d.opts}, wake: make(chan struct{}, 1)}
	theHub.subscribe(s)
	defer theHub.unsubscribe(s)
	for {
		s.mu.Lock()
		q, err := s.queue, s.err
		s.queue = nil
		s.mu.Unlock()
		for _, ev := range q {
			select {
			case d.events <- ev:
			case <-ctx.Done():
				return nil
			}
		}
		if err != nil {
			return err
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return nil
		}
	}
}
