// Package manager owns fleetd: the live state of every kiosk built from
// the retained and live MQTT messages of docs/mqtt.md, alerts, the
// history database, signed commands and their audit log, operators'
// accounts, and the web dashboard, JSON API and Prometheus metrics.
//
// It holds no personal data: it only ever sees the fleet schema's typed
// payloads. It never trusts a payload: each is validated before use.
package manager

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// Status is a kiosk's place in the fleet overview.
type Status string

// Statuses, in the order the overview shows them.
const (
	StatusOnline      Status = "online"
	StatusFaulty      Status = "faulty" // online with an active alert
	StatusMaintenance Status = "maintenance"
	StatusOffline     Status = "offline"
)

// Statuses lists every status.
var Statuses = []Status{StatusOnline, StatusFaulty, StatusMaintenance, StatusOffline}

// AlertKind is what an alert is about.
type AlertKind string

// Alert kinds (issue 9's thresholds).
const (
	AlertOffline       AlertKind = "offline"        // offline for over 2 min
	AlertReaderMissing AlertKind = "reader_missing" // health: no reader
	AlertOutboxStuck   AlertKind = "outbox_stuck"   // oldest queued item over 10 min
	AlertDiskLow       AlertKind = "disk_low"       // /perm under 10 % free
	AlertHot           AlertKind = "temperature"    // over 80 °C
	AlertTamper        AlertKind = "tamper"         // tamper event; stays until acknowledged
	AlertTouchMissing  AlertKind = "touch_missing"  // touch_missing event, until touch_restored
)

// Alert thresholds.
const (
	OfflineAfter    = 2 * time.Minute
	OutboxStuckAge  = 10 * time.Minute
	DiskLowPct      = 10.0
	TemperatureMaxC = 80.0
)

// Alert is one active alert on one kiosk.
type Alert struct {
	Kiosk   string    `json:"kiosk"`
	Kind    AlertKind `json:"kind"`
	Since   time.Time `json:"since"`
	Acked   bool      `json:"acked"`
	AckedBy string    `json:"acked_by,omitempty"`
}

// Kiosk is fleetd's picture of one kiosk.
type Kiosk struct {
	Ref        fleet.KioskRef  `json:"ref"`
	Name       string          `json:"name"` // "site/kiosk"
	State      fleet.Lifecycle `json:"state"`
	StateSince time.Time       `json:"state_since"`
	ByWill     bool            `json:"by_will,omitempty"`
	Birth      *fleet.Birth    `json:"birth,omitempty"`
	Health     *fleet.Health   `json:"health,omitempty"`
	HealthAt   time.Time       `json:"health_at"`
	LastSeen   time.Time       `json:"last_seen"`
	Alerts     []Alert         `json:"alerts,omitempty"`
	Status     Status          `json:"status"`
}

// Version is the kiosk's software version, or "".
func (k *Kiosk) Version() string {
	if k.Birth == nil {
		return ""
	}
	return string(k.Birth.Version)
}

func (k *Kiosk) alert(kind AlertKind) *Alert {
	for i := range k.Alerts {
		if k.Alerts[i].Kind == kind {
			return &k.Alerts[i]
		}
	}
	return nil
}

// setAlert raises or clears a condition alert; it reports a change.
func (k *Kiosk) setAlert(kind AlertKind, on bool, now time.Time) bool {
	a := k.alert(kind)
	switch {
	case on && a == nil:
		k.Alerts = append(k.Alerts, Alert{Kiosk: k.Name, Kind: kind, Since: now})
		return true
	case !on && a != nil && kind != AlertTamper:
		k.Alerts = slices.DeleteFunc(k.Alerts, func(a Alert) bool { return a.Kind == kind })
		return true
	}
	return false
}

// evaluate recomputes the condition alerts and the status at now.
func (k *Kiosk) evaluate(now time.Time) bool {
	changed := false
	offline := k.State == fleet.Offline || k.State == ""
	changed = k.setAlert(AlertOffline, offline && now.Sub(k.StateSince) > OfflineAfter, now) || changed
	if h := k.Health; h != nil && !offline {
		changed = k.setAlert(AlertReaderMissing, !h.Reader.Present, now) || changed
		changed = k.setAlert(AlertOutboxStuck, time.Duration(h.Outbox.OldestAgeS)*time.Second > OutboxStuckAge, now) || changed
		changed = k.setAlert(AlertDiskLow, h.PermFreePct < DiskLowPct, now) || changed
		changed = k.setAlert(AlertHot, h.CPUTempC != nil && *h.CPUTempC > TemperatureMaxC, now) || changed
	}
	st := StatusOnline
	switch {
	case offline:
		st = StatusOffline
	case k.State == fleet.Maintenance:
		st = StatusMaintenance
	case k.activeAlerts() > 0:
		st = StatusFaulty
	}
	if st != k.Status {
		k.Status = st
		changed = true
	}
	return changed
}

func (k *Kiosk) activeAlerts() int {
	n := 0
	for _, a := range k.Alerts {
		if !a.Acked && a.Kind != AlertOffline {
			n++
		}
	}
	return n
}

// Filter selects kiosks for the list and the API.
type Filter struct {
	Site    string
	Status  Status
	Version string
	Alert   AlertKind // "any" for any alert
	Query   string    // substring of site/kiosk
}

// Match reports whether k passes f.
func (f Filter) Match(k *Kiosk) bool {
	if f.Site != "" && k.Ref.Site != f.Site || f.Status != "" && k.Status != f.Status ||
		f.Version != "" && k.Version() != f.Version || f.Query != "" && !strings.Contains(k.Name, f.Query) {
		return false
	}
	switch f.Alert {
	case "":
		return true
	case "any":
		return len(k.Alerts) > 0
	}
	return k.alert(f.Alert) != nil
}

func sortKiosks(ks []Kiosk) {
	sort.Slice(ks, func(i, j int) bool { return ks[i].Name < ks[j].Name })
}

func sortCommands(cs []CommandRecord) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Sent.After(cs[j].Sent) })
}

func sortAlerts(as []Alert) {
	sort.Slice(as, func(i, j int) bool {
		if as[i].Acked != as[j].Acked {
			return !as[i].Acked
		}
		return as[i].Since.After(as[j].Since)
	})
}

func deleteAlert(as []Alert, kind AlertKind) []Alert {
	return slices.DeleteFunc(as, func(a Alert) bool { return a.Kind == kind })
}
