package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"image/png"
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
// would, and sees the wizard go out of service; before that, a self-test
// and a screenshot of the attract screen come back in their acks.
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
	acks := make(chan fleet.Ack, 8)
	if tok := op.Subscribe(fleet.Topic(ref, fleet.ChanAck), 1, func(_ mqtt.Client, m mqtt.Message) {
		var a fleet.Ack
		if err := json.Unmarshal(m.Payload(), &a); err != nil {
			t.Errorf("ack %q: %v", m.Payload(), err)
		}
		checkPrivate(t, m.Payload())
		acks <- a
	}); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe acks: %v", tok.Error())
	}
	send := func(id fleet.Token, name fleet.CommandName) fleet.Ack {
		t.Helper()
		now := time.Now().UTC()
		c := fleet.Command{V: fleet.SchemaVersion, ID: id, Site: ref.Site, Kiosk: ref.Kiosk,
			Name: name, Issued: now, Expires: now.Add(5 * time.Minute)}
		signer.Sign(&c)
		payload, _ := json.Marshal(c)
		if tok := op.Publish(fleet.Topic(ref, fleet.ChanCmd), 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish command: %v", tok.Error())
		}
		for {
			select {
			case a := <-acks:
				if a.ID != id {
					continue
				}
				if err := a.Validate(); err != nil {
					t.Fatalf("ack of %s: %v", name, err)
				}
				return a
			case <-ctx.Done():
				t.Fatalf("no ack of %s:\n%s", name, stderr.String())
			}
		}
	}
	waitFor("first frame presented")
	a := send("cmd-st", fleet.CmdSelfTest)
	if a.Status != fleet.AckOK || a.SelfTest == nil || !a.SelfTest.Display.OK || !a.SelfTest.Upstream.OK || !a.SelfTest.Disk.OK {
		t.Fatalf("self_test ack = %+v (self-test %+v)", a, a.SelfTest)
	}
	t.Logf("self-test: %+v", *a.SelfTest)
	a = send("cmd-shot", fleet.CmdScreenshot)
	if a.Status != fleet.AckOK {
		t.Fatalf("screenshot on the attract screen = %+v", a)
	}
	if img, err := png.Decode(bytes.NewReader(a.ScreenshotPNG)); err != nil || img.Bounds().Dx() == 0 {
		t.Fatalf("screenshot is no PNG: %v", err)
	}
	send("cmd-1", fleet.CmdMaintenanceOn)
	waitFor(`"msg":"step","session":"","step":"out_of_service"`)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("kiosk = %v", err)
	}
}
