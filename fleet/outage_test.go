package fleet_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/broker"
	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
)

// TestEventsSurviveBrokerOutage: events raised while the broker is down
// wait in the agent's queue and arrive, in order, once it reconnects.
func TestEventsSurviveBrokerOutage(t *testing.T) {
	ops := map[string]string{"fleetd": "op-pw"}
	b, err := broker.Start(broker.Config{Addr: "127.0.0.1:0", Operators: ops})
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	ref := fleet.KioskRef{Site: "itest", Kiosk: "k1"}
	const pw = "outage-test-kiosk-password"
	b.SetKiosk(context.Background(), ref, pw)
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	os.WriteFile(filepath.Join(dir, "pw"), []byte(pw), 0o600)
	os.WriteFile(filepath.Join(dir, "keys"), []byte(fleet.Signer{KeyID: "k", Key: priv}.PublicLine()), 0o600)
	a, err := fleet.NewAgent(config.MQTT{BrokerURL: "mqtt://" + addr, Username: ref.Username(),
		PasswordFile: filepath.Join(dir, "pw"), OperatorKeysFile: filepath.Join(dir, "keys"), HealthInterval: config.Duration(time.Hour)},
		fleet.Identity{Kiosk: ref}, fleet.Options{Health: fleettest.Health, Handler: &fleettest.Handler{}, MaxReconnectInterval: time.Second, ConnectTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for end := time.Now().Add(10 * time.Second); a.Stats().Published == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("agent never published")
		}
	}

	b.Close()
	time.Sleep(300 * time.Millisecond)
	for range 5 {
		a.Event(fleet.EvHelpRequested, fleet.EventFields{})
	}
	if st := a.Stats(); st.Queued == 0 || st.Dropped != 0 {
		t.Fatalf("during the outage: %+v, want events queued and none dropped", st)
	}
	b, err = broker.Start(broker.Config{Addr: addr, Operators: ops})
	if err != nil {
		t.Fatal(err)
	}
	b.SetKiosk(context.Background(), ref, pw)
	defer b.Close()
	var (
		mu  sync.Mutex
		got []fleet.Event
	)
	if err := b.Subscribe(fleet.Topic(ref, fleet.ChanEvent), func(_ string, p []byte) {
		var e fleet.Event
		if json.Unmarshal(p, &e) == nil {
			mu.Lock()
			got = append(got, e)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(60 * time.Second); a.Stats().Queued > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("events still queued after the broker came back: %+v", a.Stats())
		}
	}
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 5 {
		t.Fatalf("received %d events after the outage, want 5", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Errorf("events out of order: seq %d after %d", got[i].Seq, got[i-1].Seq)
		}
	}
}
