package manager

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"sync"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// EventRecord is a stored event.
type EventRecord struct {
	Kiosk string `json:"kiosk"`
	fleet.Event
}

// HealthSample is a stored health snapshot.
type HealthSample struct {
	fleet.Health
}

// CommandRecord is a command fleetd sent and the kiosk's answer.
type CommandRecord struct {
	ID       fleet.Token       `json:"id"`
	Kiosk    string            `json:"kiosk"`
	Name     fleet.CommandName `json:"name"`
	Language string            `json:"language,omitempty"`
	By       string            `json:"by"`
	Sent     time.Time         `json:"sent"`
	Expires  time.Time         `json:"expires"`
	Ack      *fleet.Ack        `json:"ack,omitempty"`
	AckAt    time.Time         `json:"ack_at,omitzero"`
	// Job is the bulk job that sent it (issue 19).
	Job string `json:"job,omitempty"`
}

// AuditEntry records who did what.
type AuditEntry struct {
	TS     time.Time `json:"ts"`
	User   string    `json:"user"`
	Action string    `json:"action"` // "command", "alert_ack", "enroll", "revoke"
	Kiosk  string    `json:"kiosk,omitempty"`
	Detail string    `json:"detail,omitempty"` // command name and id, alert kind
}

// intake takes every message from the broker(s): it refuses what is too
// large or comes too fast from one kiosk, and hands the rest to a few
// workers, each kiosk always to the same one so its messages stay in
// order. A full worker queue makes the sender wait (the publishing
// client's goroutine in the embedded broker, the MQTT client otherwise):
// back-pressure, never a silent drop. Handing over also keeps the broker's
// per-connection goroutines shallow (memory per kiosk, issue 14).
type intake struct {
	m     *Manager
	work  []chan inMsg
	done  <-chan struct{}
	lim   [64]limShard
	lastW time.Time // last "refused" log line
	logMu sync.Mutex
}

type inMsg struct {
	ref     fleet.KioskRef
	ch      string
	payload []byte
	replay  bool
	via     int
}

type limShard struct {
	mu sync.Mutex
	m  map[string]*tokenBucket
}

type tokenBucket struct {
	tokens float64
	last   time.Time
}

func newIntake(m *Manager) *intake {
	in := &intake{m: m, work: make([]chan inMsg, 2)}
	for i := range in.work {
		in.work[i] = make(chan inMsg, 4096)
	}
	for i := range in.lim {
		in.lim[i].m = map[string]*tokenBucket{}
	}
	return in
}

func (in *intake) start(ctx context.Context, wg *sync.WaitGroup) {
	in.done = ctx.Done()
	for _, w := range in.work {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case msg := <-w:
					in.m.apply(msg)
				case <-ctx.Done():
					for {
						select {
						case msg := <-w:
							in.m.apply(msg)
						default:
							return
						}
					}
				}
			}
		}()
	}
}

// submit takes one message from broker via; replay says it is a retained
// message the broker replayed at subscription.
func (in *intake) submit(topic string, payload []byte, replay bool, via int) {
	m := in.m
	ref, ch, err := fleet.ParseTopic(topic)
	if err != nil {
		m.metrics.invalid("topic")
		return
	}
	if ch == fleet.ChanCmd {
		return // fleetd's own commands, heard back
	}
	m.metrics.count(ch)
	if len(payload) > fleet.MaxPayload(ch) {
		m.metrics.invalid(ch)
		in.refused(ref, ch, "oversize", len(payload))
		return
	}
	h := fnv.New32a()
	h.Write([]byte(ref.Site))
	h.Write([]byte{'/'})
	h.Write([]byte(ref.Kiosk))
	sum := h.Sum32()
	if !replay && !in.allow(sum, ref.String()) {
		m.metrics.rateLimited.Add(1)
		return
	}
	select {
	case in.work[sum%uint32(len(in.work))] <- inMsg{ref, ch, payload, replay, via}:
	case <-in.done:
	}
}

// allow spends one of kiosk name's intake tokens.
func (in *intake) allow(sum uint32, name string) bool {
	s := &in.lim[sum%uint32(len(in.lim))]
	now := in.m.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.m[name]
	if b == nil {
		if len(s.m) >= 1<<16 {
			clear(s.m) // a flood of names: forget, rather than grow
		}
		b = &tokenBucket{tokens: float64(in.m.opts.IntakeBurst), last: now}
		s.m[name] = b
	}
	b.tokens = min(float64(in.m.opts.IntakeBurst), b.tokens+now.Sub(b.last).Seconds()*in.m.opts.IntakeRate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// refused logs a refused message, at most once a second.
func (in *intake) refused(ref fleet.KioskRef, ch, why string, size int) {
	in.logMu.Lock()
	now := time.Now()
	quiet := now.Sub(in.lastW) < time.Second
	if !quiet {
		in.lastW = now
	}
	in.logMu.Unlock()
	if !quiet {
		in.m.log.Warn("fleetd refused a message", "kiosk", ref.String(), "channel", ch, "why", why, "bytes", size)
	}
}

// apply updates the state of one kiosk from one message.
func (m *Manager) apply(msg inMsg) {
	if err := m.applyPayload(msg); err != nil {
		m.metrics.invalid(msg.ch)
		m.log.Debug("fleetd invalid payload", "kiosk", msg.ref.String(), "channel", msg.ch, "err", err)
	}
}

func (m *Manager) applyPayload(msg inMsg) error {
	if len(msg.payload) == 0 {
		return nil // a cleared retained message
	}
	now := m.opts.Now()
	name := msg.ref.String()
	switch msg.ch {
	case fleet.ChanState:
		var s fleet.State
		if err := decode(msg.payload, &s); err != nil {
			return err
		}
		m.update(msg, now, func(k *Kiosk) {
			if k.State != s.State {
				k.StateSince = now
			}
			k.State, k.ByWill = s.State, s.Will
			if s.Birth != nil {
				k.Birth = s.Birth
			}
		})
	case fleet.ChanHealth:
		var h fleet.Health
		if err := decode(msg.payload, &h); err != nil {
			return err
		}
		if !msg.replay {
			m.metrics.observeDelay(now.Sub(h.TS))
		}
		var sample bool
		m.update(msg, now, func(k *Kiosk) {
			k.Health, k.HealthAt = &h, now
			if now.Sub(k.sampled) >= m.opts.HistoryEvery {
				k.sampled, sample = now, true
			}
		})
		if sample {
			m.history(BucketHealth, TimeKey(name, h.TS, 0), HealthSample{h})
		}
	case fleet.ChanEvent:
		var e fleet.Event
		if err := decode(msg.payload, &e); err != nil {
			return err
		}
		if m.update(msg, now, func(k *Kiosk) {
			switch e.Kind {
			case fleet.EvTamper:
				k.setAlert(AlertTamper, true, now)
			case fleet.EvTouchMissing, fleet.EvTouchRestored:
				k.setAlert(AlertTouchMissing, e.Kind == fleet.EvTouchMissing, now)
			}
		}) {
			m.history(BucketEvents, TimeKey(name, e.TS, e.Seq), EventRecord{name, e})
		}
	case fleet.ChanAck:
		var a fleet.Ack
		if err := decode(msg.payload, &a); err != nil {
			return err
		}
		if m.update(msg, now, func(*Kiosk) {}) {
			m.recordAck(name, a, now)
		}
	}
	return nil
}

func decode[T interface{ Validate() error }](b []byte, v *T) error {
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	return (*v).Validate()
}

// update changes kiosk msg.ref under the lock, re-evaluates it, marks its
// snapshot for writing and tells the dashboards. It reports false, and
// changes nothing, for a revoked kiosk.
func (m *Manager) update(msg inMsg, now time.Time, f func(*Kiosk)) bool {
	m.mu.Lock()
	k := m.kioskLocked(msg.ref)
	if k.Revoked() {
		m.mu.Unlock()
		m.metrics.revokedMsgs.Add(1)
		return false
	}
	v0, state0, birth0 := k.view(), k.State, k.Birth
	f(k)
	k.LastSeen = now
	if !msg.replay {
		k.LastHeard, k.via = now, msg.via+1
	}
	k.evaluate(now, m.hearingLocked(k), m.lv)
	v1 := k.view()
	if v0 != v1 || k.State != state0 || k.Birth != birth0 || msg.ch != fleet.ChanHealth {
		// Health alone changes nothing a restart needs: keep the write
		// path to state changes, so a large fleet costs few writes.
		m.dirty[k.Name] = struct{}{}
	}
	m.mu.Unlock()
	c := changeHealth
	if v0 != v1 {
		c |= changeView
		if v0.alerts != v1.alerts {
			c |= changeAlerts
		}
	}
	m.hub.publish(k.Name, c)
	return true
}

func (m *Manager) recordAck(name string, a fleet.Ack, now time.Time) {
	var r CommandRecord
	found, err := m.store.Get(BucketCommands, []byte(a.ID), &r)
	if err != nil || found && r.Kiosk != name {
		return
	}
	if !found {
		// Sent by another fleetd (this one is a standby): keep the answer.
		r = CommandRecord{ID: a.ID, Kiosk: name, Name: a.Name, By: "(other fleetd)", Sent: now}
	}
	if a.Status == fleet.AckRejected && r.Ack != nil {
		return // a replay refusal never overwrites the real answer
	}
	r.Ack, r.AckAt = &a, now
	if err := m.store.Write(Put(BucketCommands, []byte(a.ID), r)); err != nil {
		m.log.Error("fleetd store ack", "err", err)
	}
	m.afterAck(r)
	m.hub.publish(name, changeHealth)
}
