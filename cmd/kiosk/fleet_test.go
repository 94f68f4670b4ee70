package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/internal/itest"
)

// TestFleetMaintenance runs the demo kiosk with its fleet agent on a real
// Mosquitto, sends it a signed maintenance_on command as an operator
// would, and sees the wizard go out of service.
func TestFleetMaintenance(t *testing.T) {
	addr := itest.Env(t, "NHIKIOSK_MQTT_ADDR", "Mosquitto")
	itest.File(t, config.DebianFont, "fonts-noto-cjk")
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer := fleet.Signer{KeyID: "ops-1", Key: priv}
	keys := filepath.Join(t.TempDir(), "operator-keys")
	if err := os.WriteFile(keys, []byte(signer.PublicLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	ref := fleet.KioskRef{Site: "wizard-test", Kiosk: "k-" + hex.EncodeToString(b)}

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- runContext(ctx, []string{"-demo", "-set", "display.backend=headless",
			"-set", "site=" + ref.Site, "-set", "kiosk_id=" + ref.Kiosk,
			"-set", "mqtt.broker_url=mqtt://" + addr, "-set", "mqtt.username=" + ref.Kiosk,
			"-set", "mqtt.operator_keys_file=" + keys}, &stdout, &stderr)
	}()
	waitFor := func(what string) {
		t.Helper()
		for !strings.Contains(stderr.String(), what) {
			if ctx.Err() != nil {
				t.Fatalf("no %q from the kiosk:\n%s", what, stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("fleet broker connected")

	op := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("operator-" + ref.Kiosk))
	if tok := op.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("operator connect: %v", tok.Error())
	}
	defer op.Disconnect(100)
	now := time.Now().UTC()
	c := fleet.Command{V: fleet.SchemaVersion, ID: "cmd-1", Site: ref.Site, Kiosk: ref.Kiosk,
		Name: fleet.CmdMaintenanceOn, Issued: now, Expires: now.Add(5 * time.Minute)}
	signer.Sign(&c)
	payload, _ := json.Marshal(c)
	if tok := op.Publish(fleet.Topic(ref, fleet.ChanCmd), 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish command: %v", tok.Error())
	}
	waitFor(`"msg":"step","session":"","step":"out_of_service"`)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("kiosk = %v", err)
	}
}
