// Package clocktest has fakes of the clock package's seams: a system
// clock that moves only when told, scripted time sources and a
// battery-backed clock.
package clocktest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nhikiosk/nhikiosk/clock"
)

// System is a fake kernel clock: Now returns its wall time, which moves
// with Advance and Set; Mono is a monotonic clock that only Advance moves.
// Safe for concurrent use.
type System struct {
	mu   sync.Mutex
	wall time.Time
	mono time.Time
	sets []time.Time
	err  error
}

// NewSystem returns a clock reading wall.
func NewSystem(wall time.Time) *System {
	return &System{wall: wall, mono: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// Now returns the wall time.
func (s *System) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wall
}

// Set sets the wall time, or fails with the error given to Refuse (as the
// kernel does without CAP_SYS_TIME).
func (s *System) Set(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.wall = t
	s.sets = append(s.sets, t)
	return nil
}

// Refuse makes Set fail with err (nil: succeed again).
func (s *System) Refuse(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// Advance moves the wall and the monotonic clock by d.
func (s *System) Advance(d time.Duration) {
	s.mu.Lock()
	s.wall = s.wall.Add(d)
	s.mono = s.mono.Add(d)
	s.mu.Unlock()
}

// Mono returns the monotonic clock (for clock.Options.Monotonic).
func (s *System) Mono() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mono
}

// Sets returns every time Set set.
func (s *System) Sets() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.sets...)
}

// ErrNoAnswer is what a Source without an answer fails with.
var ErrNoAnswer = errors.New("clocktest: no answer")

// Source is a scripted time source: it fails with ErrNoAnswer until
// told to answer, and answers with a fixed time or the time of a System
// plus an offset. Safe for concurrent use.
type Source struct {
	kind clock.Kind
	from string

	mu     sync.Mutex
	answer func() (time.Time, error)
	calls  int
	floors []time.Time
}

// NewSource returns a source of kind named from that does not answer.
func NewSource(kind clock.Kind, from string) *Source {
	return &Source{kind: kind, from: from, answer: func() (time.Time, error) { return time.Time{}, ErrNoAnswer }}
}

// Kind implements clock.Source.
func (s *Source) Kind() clock.Kind { return s.kind }

// Time implements clock.Source.
func (s *Source) Time(ctx context.Context, floor time.Time) (clock.Reading, error) {
	s.mu.Lock()
	s.calls++
	s.floors = append(s.floors, floor)
	f := s.answer
	s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return clock.Reading{}, err
	}
	t, err := f()
	return clock.Reading{Time: t, From: s.from}, err
}

// Answer makes the source answer t.
func (s *Source) Answer(t time.Time) { s.set(func() (time.Time, error) { return t, nil }) }

// Follow makes the source answer sys's wall time plus offset: a source
// whose idea of the time is off by offset from the world's.
func (s *Source) Follow(sys interface{ Now() time.Time }, offset time.Duration) {
	s.set(func() (time.Time, error) { return sys.Now().Add(offset), nil })
}

// Fail makes the source fail with err.
func (s *Source) Fail(err error) { s.set(func() (time.Time, error) { return time.Time{}, err }) }

func (s *Source) set(f func() (time.Time, error)) {
	s.mu.Lock()
	s.answer = f
	s.mu.Unlock()
}

// Calls counts the times the source was asked.
func (s *Source) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Floors returns the floor given with every call.
func (s *Source) Floors() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.floors...)
}

// RTC is a fake battery-backed clock holding a time, or failing.
type RTC struct {
	mu      sync.Mutex
	t       time.Time
	readErr error
	writes  []time.Time
}

// NewRTC returns a clock holding t.
func NewRTC(t time.Time, readErr error) *RTC { return &RTC{t: t, readErr: readErr} }

// Read implements clock.RTC.
func (r *RTC) Read() (time.Time, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.t, r.readErr
}

// Write implements clock.RTC: it holds t from now on.
func (r *RTC) Write(t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.t, r.readErr = t, nil
	r.writes = append(r.writes, t)
	return nil
}

// Writes returns every time written.
func (r *RTC) Writes() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.writes...)
}
