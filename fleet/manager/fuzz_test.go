package manager

import (
	"path/filepath"
	"testing"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// FuzzApply feeds arbitrary payloads from the broker to the state: no
// panic, and nothing invalid is kept.
func FuzzApply(f *testing.F) {
	f.Add("state", []byte(`{"v":1,"state":"online","birth":{"version":"v1"}}`))
	f.Add("health", []byte(`{"v":1,"reader":{"present":true},"perm_free_pct":5}`))
	f.Add("event", []byte(`{"v":1,"kind":"tamper","seq":1}`))
	f.Add("ack", []byte(`{"v":1,"id":"x","status":"ok"}`))
	store, err := OpenStore(filepath.Join(f.TempDir(), "db"))
	if err != nil {
		f.Fatal(err)
	}
	defer store.Close()
	m, err := New(Options{Store: store})
	if err != nil {
		f.Fatal(err)
	}
	ref := fleet.KioskRef{Site: "s", Kiosk: "k"}
	f.Fuzz(func(t *testing.T, ch string, payload []byte) {
		if err := m.applyPayload(inMsg{ref: ref, ch: ch, payload: payload}); err != nil {
			return
		}
		if k, ok := m.Kiosk("s/k"); ok {
			if k.State != "" && (fleet.State{V: 1, State: k.State}).Validate() != nil {
				t.Errorf("invalid state kept: %q", k.State)
			}
			if k.Health != nil && k.Health.Validate() != nil {
				t.Errorf("invalid health kept")
			}
		}
		for len(m.writes) > 0 {
			<-m.writes
		}
	})
}
