package manager

import (
	"encoding/json"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// MaxPayload bounds what fleetd parses from the broker.
const MaxPayload = 1 << 20

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
}

// AuditEntry records who did what.
type AuditEntry struct {
	TS     time.Time `json:"ts"`
	User   string    `json:"user"`
	Action string    `json:"action"` // "command", "alert_ack", "login"
	Kiosk  string    `json:"kiosk,omitempty"`
	Detail string    `json:"detail,omitempty"` // command name and id, alert kind
}

func (m *Manager) onMessage(_ mqtt.Client, msg mqtt.Message) { m.handle(msg.Topic(), msg.Payload()) }

// handle applies one message; it is safe for concurrent use.
func (m *Manager) handle(topic string, payload []byte) {
	ref, ch, err := fleet.ParseTopic(topic)
	if err != nil || len(payload) > MaxPayload {
		m.metrics.invalid.Add(1)
		return
	}
	m.metrics.count(ch)
	if err := m.apply(ref, ch, payload); err != nil {
		m.metrics.invalid.Add(1)
		m.log.Debug("fleetd invalid payload", "kiosk", ref.String(), "channel", ch, "err", err)
	}
}

// apply updates the state of kiosk ref from one message on channel ch.
func (m *Manager) apply(ref fleet.KioskRef, ch string, payload []byte) error {
	if len(payload) == 0 {
		return nil // a cleared retained message
	}
	now := m.opts.Now()
	name := ref.String()
	switch ch {
	case fleet.ChanState:
		var s fleet.State
		if err := decode(payload, &s); err != nil {
			return err
		}
		m.update(ref, ch, now, func(k *Kiosk) {
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
		if err := decode(payload, &h); err != nil {
			return err
		}
		m.metrics.observeDelay(now.Sub(h.TS))
		m.update(ref, ch, now, func(k *Kiosk) { k.Health, k.HealthAt = &h, now })
		m.mu.Lock()
		store := now.Sub(m.lastHS[name]) >= m.opts.HistoryEvery
		if store {
			m.lastHS[name] = now
		}
		m.mu.Unlock()
		if store {
			m.write(bHealth, timeKey(name, h.TS, 0), HealthSample{h})
		}
	case fleet.ChanEvent:
		var e fleet.Event
		if err := decode(payload, &e); err != nil {
			return err
		}
		m.write(bEvents, timeKey(name, e.TS, e.Seq), EventRecord{name, e})
		m.update(ref, ch, now, func(k *Kiosk) {
			switch e.Kind {
			case fleet.EvTamper:
				k.setAlert(AlertTamper, true, now)
			case fleet.EvTouchMissing, fleet.EvTouchRestored:
				k.setAlert(AlertTouchMissing, e.Kind == fleet.EvTouchMissing, now)
			}
		})
	case fleet.ChanAck:
		var a fleet.Ack
		if err := decode(payload, &a); err != nil {
			return err
		}
		m.recordAck(name, a, now)
		m.update(ref, ch, now, func(*Kiosk) {})
	}
	return nil
}

func decode[T interface{ Validate() error }](b []byte, v *T) error {
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	return (*v).Validate()
}

// update changes kiosk ref under the lock, re-evaluates it, persists the
// snapshot and tells the dashboards.
func (m *Manager) update(ref fleet.KioskRef, ch string, now time.Time, f func(*Kiosk)) {
	name := ref.String()
	m.mu.Lock()
	k := m.kiosks[name]
	if k == nil {
		k = &Kiosk{Ref: ref, Name: name, StateSince: now}
		m.kiosks[name] = k
	}
	before := k.State
	f(k)
	k.LastSeen = now
	changed := k.evaluate(now) || k.State != before || ch != fleet.ChanHealth
	snap := *k
	snap.Health = nil // health history has its own bucket
	m.mu.Unlock()
	if changed {
		// Health alone changes nothing a restart needs: keep the write
		// path to state changes, so 10,000 kiosks cost few writes.
		m.write(bKiosks, []byte(name), snap)
	}
	m.hub.publish(name)
}

func (m *Manager) recordAck(name string, a fleet.Ack, now time.Time) {
	var r CommandRecord
	found, err := m.store.get(bCommands, []byte(a.ID), &r)
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
	if err := m.store.putOne(bCommands, []byte(a.ID), r); err != nil {
		m.log.Error("fleetd store ack", "err", err)
	}
}
