package manager

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
)

func TestAlerts(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	hot, cool := 85.0, 50.0
	good := fleet.Health{V: 1, CPUTempC: &cool, PermFreePct: 50, Reader: fleet.Reader{Present: true}}
	tests := []struct {
		name   string
		k      Kiosk
		at     time.Duration
		want   []AlertKind
		status Status
	}{
		{"healthy", Kiosk{State: fleet.Online, Health: &good}, 0, nil, StatusOnline},
		{"offline 1 min: no alert yet", Kiosk{State: fleet.Offline, StateSince: t0}, time.Minute, nil, StatusOffline},
		{"offline 3 min", Kiosk{State: fleet.Offline, StateSince: t0}, 3 * time.Minute, []AlertKind{AlertOffline}, StatusOffline},
		{"reader missing", Kiosk{State: fleet.Online, Health: &fleet.Health{V: 1, PermFreePct: 50}}, 0, []AlertKind{AlertReaderMissing}, StatusFaulty},
		{"disk, heat, outbox", Kiosk{State: fleet.Online, Health: &fleet.Health{V: 1, CPUTempC: &hot, PermFreePct: 5,
			Reader: fleet.Reader{Present: true}, Outbox: fleet.Outbox{Depth: 3, OldestAgeS: 601}}}, 0,
			[]AlertKind{AlertOutboxStuck, AlertDiskLow, AlertHot}, StatusFaulty},
		{"maintenance wins over faulty", Kiosk{State: fleet.Maintenance, Health: &fleet.Health{V: 1, PermFreePct: 5, Reader: fleet.Reader{Present: true}}}, 0,
			[]AlertKind{AlertDiskLow}, StatusMaintenance},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := tt.k
			k.LastSeen, k.LastHeard, k.StateSince, k.HealthAt = t0, t0, t0, t0
			k.evaluate(t0.Add(tt.at), hearing{up: true, since: t0.Add(-time.Hour)}, liveness{every: time.Hour, missed: 3})
			var got []AlertKind
			for _, a := range k.Alerts {
				got = append(got, a.Kind)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("alerts = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("alerts = %v, want %v", got, tt.want)
				}
			}
			if k.Status != tt.status {
				t.Errorf("status = %q, want %q", k.Status, tt.status)
			}
		})
	}
}

func TestTamperStaysUntilAcknowledged(t *testing.T) {
	now := time.Now()
	k := Kiosk{Name: "s/k", State: fleet.Online, Health: &fleet.Health{V: 1, PermFreePct: 50, Reader: fleet.Reader{Present: true}}}
	k.LastSeen, k.LastHeard, k.HealthAt = now, now, now
	k.setAlert(AlertTamper, true, now)
	k.evaluate(now.Add(time.Hour), hearing{up: true, since: now}, liveness{every: time.Hour, missed: 3})
	if k.alert(AlertTamper) == nil || k.Status != StatusFaulty {
		t.Fatalf("tamper alert gone by itself: %+v", k)
	}
}

func TestFilter(t *testing.T) {
	k := &Kiosk{Ref: fleet.KioskRef{Site: "a", Kiosk: "k1"}, Name: "a/k1", Status: StatusFaulty,
		Birth: &fleet.Birth{Version: "v1"}, Alerts: []Alert{{Kind: AlertDiskLow}}}
	for _, tt := range []struct {
		f    Filter
		want bool
	}{
		{Filter{}, true}, {Filter{Site: "a"}, true}, {Filter{Site: "b"}, false},
		{Filter{Status: StatusFaulty}, true}, {Filter{Status: StatusOnline}, false},
		{Filter{Version: "v1"}, true}, {Filter{Version: "v2"}, false},
		{Filter{Alert: "any"}, true}, {Filter{Alert: AlertDiskLow}, true}, {Filter{Alert: AlertHot}, false},
		{Filter{Query: "k1"}, true}, {Filter{Query: "k2"}, false},
	} {
		if got := tt.f.Match(k); got != tt.want {
			t.Errorf("%+v.Match = %v, want %v", tt.f, got, tt.want)
		}
	}
}

// TestLiveness: a kiosk is online only while fleetd keeps hearing it
// (issue 14, finding 1), whatever its last state message said.
func TestLiveness(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	lv := liveness{every: 30 * time.Second, missed: 3}
	up := hearing{up: true, since: t0}
	birth := &fleet.Birth{HealthIntervalS: 10}
	heard := func(ago time.Duration, st fleet.Lifecycle) Kiosk {
		at := t0.Add(time.Hour - ago)
		return Kiosk{Name: "s/k", State: st, StateSince: at, LastSeen: at, LastHeard: at, Birth: birth}
	}
	now := t0.Add(time.Hour)
	tests := []struct {
		name   string
		k      Kiosk
		h      hearing
		now    time.Time
		status Status
		alert  bool
	}{
		{"heard 5 s ago", heard(5*time.Second, fleet.Online), up, now, StatusOnline, false},
		{"silent 29 s of 3×10 s", heard(29*time.Second, fleet.Online), up, now, StatusOnline, false},
		{"silent 31 s, no Last Will: offline", heard(31*time.Second, fleet.Online), up, now, StatusOffline, true},
		{"silent, in maintenance: offline", heard(time.Minute, fleet.Maintenance), up, now, StatusOffline, true},
		{"no health interval in birth: fleetd's default", Kiosk{Name: "s/k", State: fleet.Online, LastSeen: now.Add(-80 * time.Second),
			LastHeard: now.Add(-80 * time.Second)}, up, now, StatusOnline, false},
		{"Last Will 1 min ago", heard(time.Minute, fleet.Offline), hearing{up: true, since: t0}, now.Add(-35 * time.Second), StatusOffline, false},
		{"after a restart, heard before it: unknown", heard(time.Hour+time.Minute, fleet.Online), hearing{up: true, since: now.Add(-10 * time.Second)}, now, StatusUnknown, false},
		{"after a restart, its time ran out: offline", heard(time.Hour+time.Minute, fleet.Online), hearing{up: true, since: now.Add(-31 * time.Second)}, now, StatusOffline, true},
		{"broker unreachable: unknown", heard(time.Second, fleet.Online), hearing{up: false, since: t0}, now, StatusUnknown, false},
		{"enrolled, never seen: unknown, no alert", Kiosk{Name: "s/k", Enrollment: &Enrollment{Enrolled: t0}}, up, now, StatusUnknown, false},
		{"revoked: offline, no alert", func() Kiosk {
			k := heard(time.Hour, fleet.Online)
			k.Enrollment = &Enrollment{Enrolled: t0, Revoked: t0}
			return k
		}(), up, now, StatusOffline, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := tt.k
			k.evaluate(tt.now, tt.h, lv)
			if k.Status != tt.status {
				t.Errorf("status = %q, want %q", k.Status, tt.status)
			}
			if got := k.alert(AlertOffline) != nil; got != tt.alert {
				t.Errorf("offline alert = %v, want %v (%+v)", got, tt.alert, k.Alerts)
			}
		})
	}
}

// A kiosk without a touch device says so (touch_missing): an alert until
// it says touch_restored (issue 18).
func TestTouchMissingAlert(t *testing.T) {
	store, err := OpenStore(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	m, err := New(Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	ref := fleet.KioskRef{Site: "s", Kiosk: "k"}
	apply := func(ch, payload string) {
		t.Helper()
		if err := m.applyPayload(inMsg{ref: ref, ch: ch, payload: []byte(payload)}); err != nil {
			t.Fatalf("apply %s %s: %v", ch, payload, err)
		}
		for len(m.writes) > 0 {
			<-m.writes
		}
	}
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	apply("state", `{"v":1,"state":"online","birth":{"version":"v1"}}`)
	apply("health", `{"v":1,"ts":"`+ts+`","reader":{"present":true},"perm_free_pct":50}`)
	apply("event", `{"v":1,"ts":"`+ts+`","kind":"touch_missing","seq":1}`)
	if k, _ := m.Kiosk("s/k"); k.alert(AlertTouchMissing) == nil {
		t.Fatalf("after touch_missing: alerts %v, want touch_missing", k.Alerts)
	}
	apply("event", `{"v":1,"ts":"`+ts+`","kind":"touch_restored","seq":2}`)
	if k, _ := m.Kiosk("s/k"); k.alert(AlertTouchMissing) != nil {
		t.Fatalf("after touch_restored: alerts %v, want none of touch_missing", k.Alerts)
	}
}
