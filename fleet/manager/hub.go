package manager

import (
	"sync"
	"sync/atomic"
	"time"
)

// hub tells dashboards which kiosks changed. Each subscriber gets a set of
// changed names, coalesced, so a slow browser never slows the message path.
type hub struct {
	mu   sync.Mutex
	subs map[*sub]struct{}
}

type sub struct {
	mu      sync.Mutex
	changed map[string]struct{}
	notify  chan struct{}
}

func newHub() *hub { return &hub{subs: map[*sub]struct{}{}} }

func (h *hub) subscribe() *sub {
	s := &sub{changed: map[string]struct{}{}, notify: make(chan struct{}, 1)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *hub) unsubscribe(s *sub) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}

func (h *hub) publish(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.mu.Lock()
		if len(s.changed) < 100000 {
			s.changed[name] = struct{}{}
		}
		s.mu.Unlock()
		select {
		case s.notify <- struct{}{}:
		default:
		}
	}
}

// take returns and clears the changed names.
func (s *sub) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.changed))
	for n := range s.changed {
		out = append(out, n)
	}
	clear(s.changed)
	return out
}

// delayBuckets are the upper bounds (seconds) of the publish-to-state
// delay histogram.
var delayBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10}

type metrics struct {
	msgs      map[string]*atomic.Uint64
	invalid   atomic.Uint64
	dbWrites  atomic.Uint64
	dbDropped atomic.Uint64
	commands  atomic.Uint64
	mu        sync.Mutex
	delay     []uint64 // per bucket, plus +Inf
	delaySum  float64
	delayN    uint64
	delays    []time.Duration // recent, for quantiles in benchmarks
}

func (mt *metrics) init() {
	mt.msgs = map[string]*atomic.Uint64{}
	for _, c := range []string{"state", "health", "event", "ack", "cmd"} {
		mt.msgs[c] = new(atomic.Uint64)
	}
	mt.delay = make([]uint64, len(delayBuckets)+1)
}

func (mt *metrics) count(ch string) {
	if c := mt.msgs[ch]; c != nil {
		c.Add(1)
	}
}

func (mt *metrics) observeDelay(d time.Duration) {
	s := d.Seconds()
	mt.mu.Lock()
	defer mt.mu.Unlock()
	i := 0
	for i < len(delayBuckets) && s > delayBuckets[i] {
		i++
	}
	mt.delay[i]++
	mt.delaySum += s
	mt.delayN++
	if len(mt.delays) < 1<<20 {
		mt.delays = append(mt.delays, d)
	}
}

// TakeDelays returns and clears the publish-to-state delays seen since the
// last call (for load tests).
func (m *Manager) TakeDelays() []time.Duration {
	m.metrics.mu.Lock()
	defer m.metrics.mu.Unlock()
	d := m.metrics.delays
	m.metrics.delays = nil
	return d
}
