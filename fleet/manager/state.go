// Package manager owns fleetd: the live state of every kiosk built from
// what it last heard over MQTT (docs/mqtt.md), alerts, per-kiosk
// enrollment and revocation, the durable store (store.go), signed commands
// and their audit log, operators' accounts, and the web dashboard, JSON API
// and Prometheus metrics.
//
// A kiosk is online only while it keeps speaking: one not heard from for
// Options.OfflineAfter of its health intervals is offline, Last Will or
// not, and after a restart or a broker outage every kiosk is unknown until
// it speaks again (issue 14).
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
	// StatusUnknown: fleetd has not heard the kiosk since it started or
	// since the broker came back, and its time has not run out yet; or it
	// was enrolled and never seen; or the broker is unreachable.
	StatusUnknown Status = "unknown"
)

// Statuses lists every status.
var Statuses = []Status{StatusOnline, StatusFaulty, StatusMaintenance, StatusOffline, StatusUnknown}

// AlertKind is what an alert is about.
type AlertKind string

// Alert kinds (issue 9's thresholds, issue 14's liveness).
const (
	AlertOffline       AlertKind = "offline"        // silent past its time, or said offline for over 2 min
	AlertReaderMissing AlertKind = "reader_missing" // health: no reader
	AlertOutboxStuck   AlertKind = "outbox_stuck"   // oldest queued item over 10 min
	AlertDiskLow       AlertKind = "disk_low"       // /perm under 10 % free
	AlertHot           AlertKind = "temperature"    // over 80 °C
	AlertTamper        AlertKind = "tamper"         // tamper event; stays until acknowledged
	AlertTouchMissing  AlertKind = "touch_missing"  // touch_missing event, until touch_restored
	// AlertBrokerDown is fleet-wide: fleetd cannot hear the fleet.
	AlertBrokerDown AlertKind = "broker_down"
	// AlertConfigDrift: the kiosk refused its desired configuration, or
	// does not run it ConfigDriftAfter after it was sent (issue 19).
	AlertConfigDrift AlertKind = "config_drift"
)

// AlertKinds lists every kind, for filters and metrics.
var AlertKinds = []AlertKind{AlertOffline, AlertReaderMissing, AlertTouchMissing, AlertOutboxStuck, AlertDiskLow, AlertHot, AlertTamper, AlertBrokerDown,
	AlertConfigDrift}

// Alert thresholds.
const (
	OfflineAfter    = 2 * time.Minute // a kiosk that said offline
	OutboxStuckAge  = 10 * time.Minute
	DiskLowPct      = 10.0
	TemperatureMaxC = 80.0
)

// Alert is one active alert on one kiosk ("" for the fleet as a whole).
type Alert struct {
	Kiosk   string    `json:"kiosk"`
	Kind    AlertKind `json:"kind"`
	Since   time.Time `json:"since"`
	Acked   bool      `json:"acked"`
	AckedBy string    `json:"acked_by,omitempty"`
	AckedAt time.Time `json:"acked_at,omitzero"`
}

// Enrollment is a kiosk's credential record, as the dashboard and API show
// it (never the credential).
type Enrollment struct {
	Enrolled  time.Time `json:"enrolled"`
	By        string    `json:"by"`
	Revoked   time.Time `json:"revoked,omitzero"`
	RevokedBy string    `json:"revoked_by,omitempty"`
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
	// LastSeen is the last message of any kind, a retained one replayed by
	// the broker included; LastHeard only counts the kiosk speaking now.
	LastSeen   time.Time   `json:"last_seen"`
	LastHeard  time.Time   `json:"last_heard,omitzero"`
	Alerts     []Alert     `json:"alerts,omitempty"`
	Status     Status      `json:"status"`
	Enrollment *Enrollment `json:"enrollment,omitempty"`
	// Tags put the kiosk in groups ("region:north"), Config is its
	// central configuration's state (issue 19).
	Tags    []string     `json:"tags,omitempty"`
	Config  ConfigStatus `json:"config,omitzero"`
	via     int          // broker (shard) it was last heard through, 1-based; 0: not known
	sampled time.Time    // last health sample stored
}

// Version is the kiosk's software version, or "".
func (k Kiosk) Version() string {
	if k.Birth == nil {
		return ""
	}
	return string(k.Birth.Version)
}

// Revoked reports whether the kiosk's credential was revoked.
func (k Kiosk) Revoked() bool { return k.Enrollment != nil && !k.Enrollment.Revoked.IsZero() }

// NeverSeen reports whether fleetd never had a message from the kiosk.
func (k Kiosk) NeverSeen() bool { return k.LastSeen.IsZero() }

func (k *Kiosk) alert(kind AlertKind) *Alert {
	for i := range k.Alerts {
		if k.Alerts[i].Kind == kind {
			return &k.Alerts[i]
		}
	}
	return nil
}

// setAlert raises or clears a condition alert; it reports a change.
func (k *Kiosk) setAlert(kind AlertKind, on bool, since time.Time) bool {
	a := k.alert(kind)
	switch {
	case on && a == nil:
		k.Alerts = append(k.Alerts, Alert{Kiosk: k.Name, Kind: kind, Since: since})
		return true
	case !on && a != nil && kind != AlertTamper:
		k.Alerts = slices.DeleteFunc(k.Alerts, func(a Alert) bool { return a.Kind == kind })
		return true
	}
	return false
}

// hearing is whether fleetd can hear the kiosk's broker, and since when.
type hearing struct {
	up    bool
	since time.Time
}

// liveness is how long a kiosk may stay silent.
type liveness struct {
	every  time.Duration // health interval of a kiosk that does not say
	missed int           // intervals missed before offline
}

// window is how long kiosk k may be silent before it is offline.
func (lv liveness) window(k *Kiosk) time.Duration {
	every := lv.every
	if k.Birth != nil && k.Birth.HealthIntervalS > 0 {
		every = time.Duration(k.Birth.HealthIntervalS) * time.Second
	}
	return time.Duration(lv.missed) * every
}

// evaluate recomputes the status and the condition alerts at now; it
// reports whether anything changed.
func (k *Kiosk) evaluate(now time.Time, h hearing, lv liveness) bool {
	before, alerts := k.Status, k.alertBits()
	st := k.liveStatus(now, h, lv)
	switch st {
	case StatusUnknown:
		// Nothing is known: alerts stay as they were.
	case StatusOffline:
		if k.Revoked() {
			k.setAlert(AlertOffline, false, now)
			break
		}
		from := later(k.LastHeard, h.since).Add(lv.window(k))
		silent := now.After(from)
		if !silent {
			from = k.StateSince.Add(OfflineAfter)
		}
		k.setAlert(AlertOffline, silent || now.After(from), from)
	default:
		k.setAlert(AlertOffline, false, now)
		if hl := k.Health; hl != nil && !k.HealthAt.Before(h.since) {
			k.setAlert(AlertReaderMissing, !hl.Reader.Present, now)
			k.setAlert(AlertOutboxStuck, time.Duration(hl.Outbox.OldestAgeS)*time.Second > OutboxStuckAge, now)
			k.setAlert(AlertDiskLow, hl.PermFreePct < DiskLowPct, now)
			k.setAlert(AlertHot, hl.CPUTempC != nil && *hl.CPUTempC > TemperatureMaxC, now)
		}
		if st == StatusOnline && k.activeAlerts() > 0 {
			st = StatusFaulty
		}
	}
	k.Status = st
	return st != before || k.alertBits() != alerts
}

// liveStatus is the status before alerts: what fleetd can say from what
// it last heard.
func (k *Kiosk) liveStatus(now time.Time, h hearing, lv liveness) Status {
	switch {
	case k.Revoked():
		return StatusOffline
	case !h.up:
		return StatusUnknown
	case now.After(later(k.LastHeard, h.since).Add(lv.window(k))):
		if k.NeverSeen() {
			return StatusUnknown // enrolled, never seen: no alert
		}
		return StatusOffline // silent past its time, Last Will or not
	case k.LastHeard.Before(h.since):
		return StatusUnknown // not heard since fleetd (or the broker) came back
	case k.State == fleet.Offline || k.State == "":
		return StatusOffline
	case k.State == fleet.Maintenance:
		return StatusMaintenance
	}
	return StatusOnline
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
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

// alertBits is the set of alerts and their acknowledgements as a number:
// what the lists show of them.
func (k *Kiosk) alertBits() uint32 {
	var b uint32
	for _, a := range k.Alerts {
		i := slices.Index(AlertKinds, a.Kind)
		if i < 0 {
			continue
		}
		b |= 1 << (2 * i)
		if a.Acked {
			b |= 2 << (2 * i)
		}
	}
	return b
}

// view is what a row of the kiosk list shows; a change of it is worth
// telling the lists (a health number alone is not).
type view struct {
	status   Status
	state    fleet.Lifecycle
	alerts   uint32
	version  string
	reader   bool
	enrolled int
}

func (k *Kiosk) view() view {
	v := view{status: k.Status, state: k.State, alerts: k.alertBits(), version: k.Version()}
	if k.Health != nil {
		v.reader = k.Health.Reader.Present
	}
	if k.Enrollment != nil {
		v.enrolled = 1
		if k.Revoked() {
			v.enrolled = 2
		}
	}
	return v
}

// Enrollment filters.
const (
	EnrolledFilter  = "enrolled"
	RevokedFilter   = "revoked"
	NeverSeenFilter = "never_seen"
	NotEnrolled     = "not_enrolled"
)

// Filter selects kiosks for the list and the API.
type Filter struct {
	Site       string
	Status     Status
	Version    string
	Alert      AlertKind // "any" for any alert
	Query      string    // substring of site/kiosk
	Enrollment string    // enrolled, revoked, never_seen, not_enrolled
	Tags       []string  // in every one of these groups
	Config     string    // central configuration state (ConfigState)
	// Sites, if set, are the only sites the asking user may see.
	Sites []string
}

// Match reports whether k passes f.
func (f Filter) Match(k *Kiosk) bool {
	if f.Site != "" && k.Ref.Site != f.Site || f.Status != "" && k.Status != f.Status ||
		f.Version != "" && k.Version() != f.Version || f.Query != "" && !strings.Contains(k.Name, f.Query) ||
		!f.opsMatch(k) {
		return false
	}
	switch f.Enrollment {
	case EnrolledFilter:
		if k.Enrollment == nil || k.Revoked() {
			return false
		}
	case RevokedFilter:
		if !k.Revoked() {
			return false
		}
	case NeverSeenFilter:
		if !k.NeverSeen() {
			return false
		}
	case NotEnrolled:
		if k.Enrollment != nil {
			return false
		}
	}
	switch f.Alert {
	case "":
		return true
	case "any":
		return len(k.Alerts) > 0
	}
	return k.alert(f.Alert) != nil
}

func sortCommands(cs []CommandRecord) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Sent.After(cs[j].Sent) })
}

func sortAlerts(as []Alert) {
	sort.Slice(as, func(i, j int) bool {
		if as[i].Acked != as[j].Acked {
			return !as[i].Acked
		}
		if !as[i].Since.Equal(as[j].Since) {
			return as[i].Since.After(as[j].Since)
		}
		return as[i].Kiosk+string(as[i].Kind) < as[j].Kiosk+string(as[j].Kind)
	})
}

func deleteAlert(as []Alert, kind AlertKind) []Alert {
	return slices.DeleteFunc(as, func(a Alert) bool { return a.Kind == kind })
}
