package manager_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
)

// childKiosk is how TestMain runs a kiosk's fleet agent in a process of
// its own, for tests that kill it.
type childKiosk struct {
	Ref    string        `json:"ref"`
	MQTT   config.MQTT   `json:"mqtt"`
	Health time.Duration `json:"health"`
}

const childEnv = "FLEET_MANAGER_TEST_CHILD_KIOSK"

func TestMain(m *testing.M) {
	if cfg := os.Getenv(childEnv); cfg != "" {
		if err := runChildKiosk(cfg); err != nil {
			fmt.Fprintln(os.Stderr, "child kiosk:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runChildKiosk(cfg string) error {
	var c childKiosk
	if err := json.Unmarshal([]byte(cfg), &c); err != nil {
		return err
	}
	ref, err := fleet.ParseKioskRef(c.Ref)
	if err != nil {
		return err
	}
	c.MQTT.HealthInterval = config.Duration(c.Health)
	a, err := fleet.NewAgent(c.MQTT, fleet.Identity{Kiosk: ref, Version: "v1.4.2", Image: "gokrazy-test", BootTime: time.Now(),
		ConfigHash: "sha256:test"}, fleet.Options{Health: fleettest.Health, Handler: &fleettest.Handler{}})
	if err != nil {
		return err
	}
	return a.Run(context.Background()) // until killed
}

// startChildKiosk enrolls name and runs its agent in another process,
// connected through a proxy of its own; it returns the process.
func (f *fleetUnderTest) startChildKiosk(name string, health time.Duration) (*exec.Cmd, *fleettest.Proxy) {
	t := f.t
	p := fleettest.NewProxy(t, f.kioskURL[len("mqtt://"):])
	dir := t.TempDir()
	ref, _ := fleet.ParseKioskRef(name)
	os.WriteFile(filepath.Join(dir, "pw"), []byte(f.enroll(name)), 0o600)
	os.WriteFile(filepath.Join(dir, "keys"), []byte(f.signer.PublicLine()), 0o600)
	cfg, _ := json.Marshal(childKiosk{Ref: name, Health: health, MQTT: config.MQTT{BrokerURL: "mqtt://" + p.Addr(),
		Username: ref.Username(), PasswordFile: filepath.Join(dir, "pw"), OperatorKeysFile: filepath.Join(dir, "keys")}})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(cfg))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, p
}
