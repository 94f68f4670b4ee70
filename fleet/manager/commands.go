package manager

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// CommandLifetime is how long a sent command stays valid.
const CommandLifetime = 5 * time.Minute

// ErrNotOperator is returned when a viewer tries to act.
var ErrNotOperator = errors.New("only operators may do this")

// Send signs a command for kiosk name, records it and the audit entry for
// user, and publishes it. It returns the command's record.
func (m *Manager) Send(u User, name string, cmd fleet.CommandName, language string) (CommandRecord, error) {
	if u.Role != RoleOperator {
		return CommandRecord{}, ErrNotOperator
	}
	ref, err := fleet.ParseKioskRef(name)
	if err != nil {
		return CommandRecord{}, err
	}
	now := m.opts.Now().UTC()
	c := fleet.Command{V: fleet.SchemaVersion, ID: newID(), Site: ref.Site, Kiosk: ref.Kiosk, Name: cmd,
		Language: language, Issued: now, Expires: now.Add(CommandLifetime)}
	m.opts.Signer.Sign(&c)
	if err := c.Validate(); err != nil {
		return CommandRecord{}, fmt.Errorf("send command: %w", err)
	}
	rec := CommandRecord{ID: c.ID, Kiosk: name, Name: cmd, Language: language, By: u.Name, Sent: now, Expires: c.Expires}
	if err := m.store.Batch([]put{
		{bCommands, []byte(c.ID), rec},
		{bAudit, timeKey("", now, m.seq.Add(1)), AuditEntry{TS: now, User: u.Name, Action: "command", Kiosk: name, Detail: string(cmd) + " " + string(c.ID)}},
	}); err != nil {
		return CommandRecord{}, fmt.Errorf("send command: record: %w", err)
	}
	b, _ := json.Marshal(c)
	t := m.client.Publish(fleet.Topic(ref, fleet.ChanCmd), 1, false, b)
	if !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		return rec, fmt.Errorf("send command: publish: %v", t.Error())
	}
	m.metrics.commands.Add(1)
	m.log.Info("fleetd command sent", "user", u.Name, "kiosk", name, "cmd", string(cmd), "id", string(c.ID))
	m.hub.publish(name)
	return rec, nil
}

// Command returns a sent command and its ack, if any.
func (m *Manager) Command(id string) (CommandRecord, bool, error) {
	var r CommandRecord
	ok, err := m.store.get(bCommands, []byte(id), &r)
	return r, ok, err
}

// Commands returns the newest commands of kiosk name ("" for all).
func (m *Manager) Commands(name string, limit int) ([]CommandRecord, error) {
	return m.store.commandsFor(name, limit)
}

// Audit returns the newest audit entries.
func (m *Manager) Audit(limit int) ([]AuditEntry, error) { return m.store.audit(limit) }

// Kiosks returns the kiosks f selects, by name.
func (m *Manager) Kiosks(f Filter) []Kiosk {
	m.mu.RLock()
	out := make([]Kiosk, 0, len(m.kiosks))
	for _, k := range m.kiosks {
		if f.Match(k) {
			out = append(out, *k)
		}
	}
	m.mu.RUnlock()
	sortKiosks(out)
	return out
}

// Kiosk returns one kiosk.
func (m *Manager) Kiosk(name string) (Kiosk, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	k, ok := m.kiosks[name]
	if !ok {
		return Kiosk{}, false
	}
	return *k, true
}

// Summary counts kiosks by status, overall and per site.
type Summary struct {
	Total  int                       `json:"total"`
	By     map[Status]int            `json:"by_status"`
	Sites  map[string]map[Status]int `json:"sites"`
	Alerts int                       `json:"alerts_unacked"`
}

// Summary returns the fleet overview.
func (m *Manager) Summary() Summary {
	s := Summary{By: map[Status]int{}, Sites: map[string]map[Status]int{}}
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, k := range m.kiosks {
		s.Total++
		s.By[k.Status]++
		if s.Sites[k.Ref.Site] == nil {
			s.Sites[k.Ref.Site] = map[Status]int{}
		}
		s.Sites[k.Ref.Site][k.Status]++
		for _, a := range k.Alerts {
			if !a.Acked {
				s.Alerts++
			}
		}
	}
	return s
}

// Alerts returns every alert, unacknowledged first, newest first.
func (m *Manager) Alerts() []Alert {
	var out []Alert
	m.mu.RLock()
	for _, k := range m.kiosks {
		out = append(out, k.Alerts...)
	}
	m.mu.RUnlock()
	sortAlerts(out)
	return out
}

// AckAlert acknowledges alert kind on kiosk name for user; a tamper alert
// is cleared by its acknowledgement.
func (m *Manager) AckAlert(u User, name string, kind AlertKind) error {
	if u.Role != RoleOperator {
		return ErrNotOperator
	}
	now := m.opts.Now().UTC()
	m.mu.Lock()
	k := m.kiosks[name]
	var a *Alert
	if k != nil {
		a = k.alert(kind)
	}
	if a == nil {
		m.mu.Unlock()
		return fmt.Errorf("acknowledge %s on %s: %w", kind, name, errUnknownKiosk)
	}
	a.Acked, a.AckedBy = true, u.Name
	if kind == AlertTamper {
		k.Alerts = deleteAlert(k.Alerts, kind)
	}
	k.evaluate(now)
	m.mu.Unlock()
	m.hub.publish(name)
	return m.store.putOne(bAudit, timeKey("", now, m.seq.Add(1)), AuditEntry{TS: now, User: u.Name, Action: "alert_ack", Kiosk: name, Detail: string(kind)})
}

// HealthHistory returns kiosk name's stored health since t.
func (m *Manager) HealthHistory(name string, since time.Time) ([]HealthSample, error) {
	return scanKiosk[HealthSample](m.store, bHealth, name, since, 0)
}

// Events returns kiosk name's newest events since t, oldest first.
func (m *Manager) Events(name string, since time.Time, limit int) ([]EventRecord, error) {
	return scanKiosk[EventRecord](m.store, bEvents, name, since, limit)
}
