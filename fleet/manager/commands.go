package manager

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
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
	if !u.Operates() {
		return CommandRecord{}, ErrNotOperator
	}
	ref, err := fleet.ParseKioskRef(name)
	if err != nil {
		return CommandRecord{}, err
	}
	if !u.MaySee(ref.Site) {
		return CommandRecord{}, ErrNotYourSite
	}
	now := m.opts.Now().UTC()
	c := fleet.Command{V: fleet.SchemaVersion, ID: newID(), Site: ref.Site, Kiosk: ref.Kiosk, Name: cmd,
		Language: language, Issued: now, Expires: now.Add(CommandLifetime)}
	m.opts.Signer.Sign(&c)
	if err := c.Validate(); err != nil {
		return CommandRecord{}, fmt.Errorf("send command: %w", err)
	}
	rec := CommandRecord{ID: c.ID, Kiosk: name, Name: cmd, Language: language, By: u.Name, Sent: now, Expires: c.Expires}
	if err := m.store.Write(Put(BucketCommands, []byte(c.ID), rec),
		m.auditOp(now, u.Name, "command", name, string(cmd)+" "+string(c.ID))); err != nil {
		return CommandRecord{}, fmt.Errorf("send command: record: %w", err)
	}
	b, _ := json.Marshal(c)
	if err := m.publish(ref, fleet.ChanCmd, false, b); err != nil {
		return rec, fmt.Errorf("send command: %w", err)
	}
	m.metrics.commands.Add(1)
	m.log.Info("fleetd command sent", "user", u.Name, "kiosk", name, "cmd", string(cmd), "id", string(c.ID))
	m.hub.publish(name, changeHealth)
	return rec, nil
}

// Command returns a sent command and its ack, if any.
func (m *Manager) Command(id string) (CommandRecord, bool, error) {
	var r CommandRecord
	ok, err := m.store.Get(BucketCommands, []byte(id), &r)
	return r, ok, err
}

// Commands returns the newest commands of kiosk name ("" for all).
func (m *Manager) Commands(name string, limit int) ([]CommandRecord, error) {
	return m.store.commandsFor(name, limit)
}

// Audit returns the newest audit entries.
func (m *Manager) Audit(limit int) ([]AuditEntry, error) { return m.store.audit(limit) }

// Kiosks returns every kiosk f selects, by name. For a large fleet use
// KioskPage.
func (m *Manager) Kiosks(f Filter) []Kiosk {
	page, _, _ := m.KioskPage(f, "", 0)
	return page
}

// KioskPage returns at most limit (0: all) of the kiosks f selects whose
// names sort after after, by name; next is the name to ask after for the
// following page ("" at the end), total how many f selects.
func (m *Manager) KioskPage(f Filter, after string, limit int) (page []Kiosk, next string, total int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	names := make([]string, 0, 256)
	for name, k := range m.kiosks {
		if f.Match(k) {
			total++
			if name > after {
				names = append(names, name)
			}
		}
	}
	sort.Strings(names)
	if limit > 0 && len(names) > limit {
		names, next = names[:limit], names[limit-1]
	}
	page = make([]Kiosk, len(names))
	for i, n := range names {
		page[i] = *m.kiosks[n]
		page[i].Alerts = append([]Alert(nil), page[i].Alerts...)
	}
	return page, next, total
}

// Kiosk returns one kiosk.
func (m *Manager) Kiosk(name string) (Kiosk, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	k, ok := m.kiosks[name]
	if !ok {
		return Kiosk{}, false
	}
	c := *k
	c.Alerts = append([]Alert(nil), k.Alerts...)
	return c, true
}

// Summary counts kiosks by status, overall and per site.
type Summary struct {
	Total      int                       `json:"total"`
	By         map[Status]int            `json:"by_status"`
	Sites      map[string]map[Status]int `json:"sites"`
	Alerts     int                       `json:"alerts_unacked"`
	Enrolled   int                       `json:"enrolled"`
	Revoked    int                       `json:"revoked"`
	NeverSeen  int                       `json:"never_seen"`
	Brokers    []BrokerState             `json:"brokers"`
	BrokersUp  bool                      `json:"brokers_up"`
	FleetAlert *Alert                    `json:"fleet_alert,omitempty"`
}

// Summary returns the fleet overview.
func (m *Manager) Summary() Summary { return m.SummaryFor(User{}) }

// SummaryFor returns the overview of the sites u may see.
func (m *Manager) SummaryFor(u User) Summary {
	s := Summary{By: map[Status]int{}, Sites: map[string]map[Status]int{}, Brokers: m.Brokers(), BrokersUp: m.BrokersUp()}
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, k := range m.kiosks {
		if !u.MaySee(k.Ref.Site) {
			continue
		}
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
		switch {
		case k.Revoked():
			s.Revoked++
		case k.Enrollment != nil:
			s.Enrolled++
		}
		if k.NeverSeen() {
			s.NeverSeen++
		}
	}
	for _, a := range m.fleetAlerts {
		if !a.Acked {
			s.Alerts++
		}
		if a.Kind == AlertBrokerDown {
			c := a
			s.FleetAlert = &c
		}
	}
	return s
}

// Alerts returns at most limit (0: all) alerts, the fleet's first, then
// unacknowledged first, newest first; and how many there are.
func (m *Manager) Alerts(limit int) ([]Alert, int) {
	var out []Alert
	m.mu.RLock()
	out = append(out, m.fleetAlerts...)
	for _, k := range m.kiosks {
		out = append(out, k.Alerts...)
	}
	m.mu.RUnlock()
	sortAlerts(out)
	total := len(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, total
}

// AckAlert acknowledges alert kind on kiosk name ("" for a fleet-wide
// alert) for user; a tamper alert is cleared by its acknowledgement. The
// acknowledgement is written before AckAlert returns.
func (m *Manager) AckAlert(u User, name string, kind AlertKind) error {
	if !u.Operates() {
		return ErrNotOperator
	}
	if site, _, _ := strings.Cut(name, "/"); !u.MaySee(site) {
		return ErrNotYourSite
	}
	now := m.opts.Now().UTC()
	m.mu.Lock()
	var op Op
	if name == "" {
		a := m.fleetAlert(kind)
		if a == nil {
			m.mu.Unlock()
			return fmt.Errorf("acknowledge %s: no such fleet alert", kind)
		}
		a.Acked, a.AckedBy, a.AckedAt = true, u.Name, now
		op = Put(BucketMeta, []byte(metaFleetAlerts), append([]Alert(nil), m.fleetAlerts...))
	} else {
		k := m.kiosks[name]
		var a *Alert
		if k != nil {
			a = k.alert(kind)
		}
		if a == nil {
			m.mu.Unlock()
			return fmt.Errorf("acknowledge %s on %s: %w", kind, name, errUnknownKiosk)
		}
		a.Acked, a.AckedBy, a.AckedAt = true, u.Name, now
		if kind == AlertTamper {
			k.Alerts = deleteAlert(k.Alerts, kind)
		}
		k.evaluate(now, m.hearingLocked(k), m.lv)
		op = Put(BucketKiosks, []byte(name), k.snapshot())
	}
	m.mu.Unlock()
	err := m.store.Write(op, m.auditOp(now, u.Name, "alert_ack", name, string(kind)))
	m.hub.publish(name, changeView|changeAlerts)
	if err != nil {
		return fmt.Errorf("acknowledge: record: %w", err)
	}
	return nil
}

// HealthHistory returns kiosk name's stored health since t.
func (m *Manager) HealthHistory(name string, since time.Time) ([]HealthSample, error) {
	return scanKiosk[HealthSample](m.store, BucketHealth, name, since, 0)
}

// Events returns kiosk name's newest events since t, oldest first.
func (m *Manager) Events(name string, since time.Time, limit int) ([]EventRecord, error) {
	return scanKiosk[EventRecord](m.store, BucketEvents, name, since, limit)
}
