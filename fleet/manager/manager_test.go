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
			k.evaluate(t0.Add(tt.at))
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
	k.setAlert(AlertTamper, true, now)
	k.evaluate(now.Add(time.Hour))
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
		if err := m.apply(ref, ch, []byte(payload)); err != nil {
			t.Fatalf("apply %s %s: %v", ch, payload, err)
		}
		for len(m.writes) > 0 {
			<-m.writes
		}
	}
	apply("state", `{"v":1,"state":"online","birth":{"version":"v1"}}`)
	apply("health", `{"v":1,"reader":{"present":true},"perm_free_pct":50}`)
	apply("event", `{"v":1,"kind":"touch_missing","seq":1}`)
	if k, _ := m.Kiosk("s/k"); k.alert(AlertTouchMissing) == nil || k.Status != StatusFaulty {
		t.Fatalf("after touch_missing: alerts %v, status %q", k.Alerts, k.Status)
	}
	apply("event", `{"v":1,"kind":"touch_restored","seq":2}`)
	if k, _ := m.Kiosk("s/k"); k.alert(AlertTouchMissing) != nil || k.Status != StatusOnline {
		t.Fatalf("after touch_restored: alerts %v, status %q", k.Alerts, k.Status)
	}
}
