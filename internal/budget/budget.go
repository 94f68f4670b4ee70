// Package budget owns the one attempt-budget type for every guessable
// secret (dashboard passwords, broker passwords): at most a number of
// failed attempts per key (a client address, a user name) within a window;
// past it, attempts are refused without being checked until the window
// has passed. It remembers a bounded number of keys, so a flood of keys
// costs bounded memory.
//
// It must not be used to decide whether a secret is right, only whether it
// may be checked now.
package budget

import (
	"sync"
	"time"
)

// Budget counts failures per key. Its methods are safe for concurrent use.
type Budget struct {
	max    int
	window time.Duration
	keys   int
	now    func() time.Time

	mu sync.Mutex
	m  map[string]*entry
}

type entry struct {
	fails int
	first time.Time // of the current window
}

// New allows max failures per key within window, remembering at most keys
// keys (the oldest window is forgotten first when full).
func New(max int, window time.Duration, keys int) *Budget {
	return &Budget{max: max, window: window, keys: keys, now: time.Now, m: map[string]*entry{}}
}

// WithClock makes b use now as its clock (tests).
func (b *Budget) WithClock(now func() time.Time) *Budget { b.now = now; return b }

// Allow reports whether an attempt for key may be checked now; when it may
// not, it also returns how long until it may.
func (b *Budget) Allow(key string) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.m[key]
	if e == nil {
		return true, 0
	}
	now := b.now()
	if now.Sub(e.first) >= b.window {
		delete(b.m, key)
		return true, 0
	}
	if e.fails < b.max {
		return true, 0
	}
	return false, e.first.Add(b.window).Sub(now)
}

// Fail records a failed attempt for key.
func (b *Budget) Fail(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	e := b.m[key]
	if e == nil || now.Sub(e.first) >= b.window {
		if e == nil && len(b.m) >= b.keys {
			b.evict(now)
		}
		e = &entry{first: now}
		b.m[key] = e
	}
	e.fails++
}

// Succeed forgets key's failures (a right answer ends the count).
func (b *Budget) Succeed(key string) {
	b.mu.Lock()
	delete(b.m, key)
	b.mu.Unlock()
}

// evict drops expired windows, and if none had expired the oldest one.
func (b *Budget) evict(now time.Time) {
	var oldest string
	var at time.Time
	for k, e := range b.m {
		if now.Sub(e.first) >= b.window {
			delete(b.m, k)
			continue
		}
		if oldest == "" || e.first.Before(at) {
			oldest, at = k, e.first
		}
	}
	if len(b.m) >= b.keys && oldest != "" {
		delete(b.m, oldest)
	}
}
