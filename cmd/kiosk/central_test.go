package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
)

// centralKiosk is testFleet on a config.json in a directory of its own,
// with local panel wiring.
func centralKiosk(t *testing.T, tamper string) (*kioskFleet, *fakeKiosk, func() []error) {
	t.Helper()
	kf, k, _, restarts := testFleet(t)
	dir := t.TempDir()
	local := config.Reference()
	local.DataDir = filepath.Join(dir, "data")
	local.Panel.Tamper = tamper
	if err := os.WriteFile(filepath.Join(dir, config.FileName), local.JSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	kf.o = options{configDir: dir}
	cfg, err := loadConfig(kf.o)
	if err != nil {
		t.Fatal(err)
	}
	kf.cfg = cfg
	return kf, k, restarts
}

func waitRestarts(t *testing.T, restarts func() []error, n int) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); len(restarts()) < n && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := len(restarts()); got != n {
		t.Fatalf("%d restarts, want %d", got, n)
	}
}

// TestApplyConfigBetweenSessions: an accepted central configuration is
// kept, and the kiosk restarts onto it only once the session ends; after
// the restart it runs it and reports its hash.
func TestApplyConfigBetweenSessions(t *testing.T) {
	kf, k, restarts := centralKiosk(t, "")
	ov, _ := config.ParseOverlay([]byte(`{"session":{"idle_timeout":"45s"},"panel":{"buzzer":"GPIO18"}}`))
	k.mu.Lock()
	k.status.InSession = true
	k.mu.Unlock()
	hash, err := fleetHandler{kf}.ApplyConfig(t.Context(), ov)
	if err != nil || string(hash) != ov.Hash() {
		t.Fatalf("ApplyConfig = %q, %v; want %s", hash, err, ov.Hash())
	}
	if _, err := os.Stat(filepath.Join(kf.o.configDir, config.CentralFileName)); err != nil {
		t.Fatalf("central configuration not kept: %v", err)
	}
	time.Sleep(3 * sessionPoll)
	if len(restarts()) != 0 {
		t.Fatal("restarted during a session")
	}
	k.mu.Lock()
	k.status.InSession = false
	k.mu.Unlock()
	waitRestarts(t, restarts, 1)
	if !errors.Is(restarts()[0], errRestartRequested) {
		t.Errorf("restart cause = %v", restarts()[0])
	}
	cfg, err := loadConfig(kf.o)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Session.IdleTimeout.D() != 45*time.Second || cfg.Panel.Buzzer != "GPIO18" {
		t.Errorf("after the restart: idle %v, buzzer %q", cfg.Session.IdleTimeout, cfg.Panel.Buzzer)
	}
	if got := storedCentralHash(kf.o, cfg); string(got) != ov.Hash() {
		t.Errorf("reported hash after the restart = %s, want %s", got, ov.Hash())
	}
}

// TestApplyConfigInvalidForPanel: a buzzer on the pin this kiosk's tamper
// switch uses is refused by config's rules; nothing is kept or restarted,
// and the hash reported differs from the one fleetd wants (drift).
func TestApplyConfigInvalidForPanel(t *testing.T) {
	kf, _, restarts := centralKiosk(t, "GPIO18")
	ov, _ := config.ParseOverlay([]byte(`{"panel":{"buzzer":"GPIO18"}}`))
	hash, err := fleetHandler{kf}.ApplyConfig(t.Context(), ov)
	if !errors.Is(err, fleet.ErrInvalidConfig) {
		t.Fatalf("ApplyConfig = %v, want ErrInvalidConfig", err)
	}
	if hash == "" || string(hash) == ov.Hash() {
		t.Errorf("refused with hash %q: must be the running configuration's, not %s", hash, ov.Hash())
	}
	if _, err := os.Stat(filepath.Join(kf.o.configDir, config.CentralFileName)); !os.IsNotExist(err) {
		t.Errorf("a refused configuration was kept: %v", err)
	}
	if kf.health().Errors[fleet.ErrKindConfig] != 1 {
		t.Error("refusal not counted as a config error")
	}
	time.Sleep(2 * sessionPoll)
	if len(restarts()) != 0 {
		t.Error("restarted for a refused configuration")
	}
}

// TestApplyConfigNothingToChange: a central configuration the kiosk
// already runs is kept without a restart; the birth's hash changes.
func TestApplyConfigNothingToChange(t *testing.T) {
	kf, _, restarts := centralKiosk(t, "")
	var told fleet.Token
	kf.setHash = func(h fleet.Token) { told = h }
	ov, _ := config.ParseOverlay([]byte(`{"language":"zh-TW"}`))
	hash, err := fleetHandler{kf}.ApplyConfig(t.Context(), ov)
	if err != nil || told != hash || string(hash) != ov.Hash() {
		t.Fatalf("ApplyConfig = %q, %v; told %q", hash, err, told)
	}
	time.Sleep(2 * sessionPoll)
	if len(restarts()) != 0 {
		t.Error("restarted though nothing changes")
	}
}

// TestStoredCentralThatNoLongerFits: config.json changed after the central
// configuration was kept, and they now conflict; the kiosk starts on its
// own file and reports the drift.
func TestStoredCentralThatNoLongerFits(t *testing.T) {
	kf, _, _ := centralKiosk(t, "GPIO18")
	ov, _ := config.ParseOverlay([]byte(`{"panel":{"buzzer":"GPIO18"}}`))
	os.WriteFile(filepath.Join(kf.o.configDir, config.CentralFileName), ov.JSON(), 0o600)
	cfg, err := loadConfig(kf.o)
	if err != nil {
		t.Fatalf("loadConfig = %v: a central configuration that does not fit must not stop the kiosk", err)
	}
	if cfg.Panel.Buzzer != "" {
		t.Errorf("buzzer = %q, want the conflicting central setting left out", cfg.Panel.Buzzer)
	}
	if got := storedCentralHash(kf.o, cfg); string(got) == ov.Hash() {
		t.Error("reports the central configuration's hash though it does not run it")
	}
}
