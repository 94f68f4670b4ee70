package manager

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// FuzzTokenUser feeds arbitrary bearer tokens: only the real secret acts
// as its owner.
func FuzzTokenUser(f *testing.F) {
	store, err := OpenStore(filepath.Join(f.TempDir(), "db"))
	if err != nil {
		f.Fatal(err)
	}
	defer store.Close()
	if err := store.SetUser("op", RoleOperator, "test-operator-password"); err != nil {
		f.Fatal(err)
	}
	m, err := New(Options{Store: store})
	if err != nil {
		f.Fatal(err)
	}
	secret, tok, err := m.CreateToken(User{Name: "op", Role: RoleOperator}, "fuzz", RoleViewer, []string{"s"}, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(secret)
	f.Add(tokenPrefix + tok.ID + "_")
	f.Add("fkt_" + strings.Repeat("0", 16) + "_x")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := m.tokenUser(s)
		if err == nil && (s != secret || u.Role != RoleViewer || len(u.Sites) != 1) {
			t.Fatalf("%q acts as %+v", s, u)
		}
	})
}

// FuzzVerifyWebhook: a webhook receiver's check never panics and never
// accepts a body other than the signed one.
func FuzzVerifyWebhook(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"v":1,"event":"new"}`)
	sig := SignWebhook("k", now.Unix(), body)
	f.Add("1800000000", sig, body)
	f.Add("x", "sha256=", []byte{})
	f.Fuzz(func(t *testing.T, ts, s string, b []byte) {
		if VerifyWebhook("k", ts, s, b, now, time.Minute) == nil && (string(b) != string(body) || s != sig) {
			t.Fatalf("accepted %q signed %q", b, s)
		}
	})
}
