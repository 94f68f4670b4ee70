package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseOverlay(t *testing.T) {
	o, err := ParseOverlay([]byte(`{"language":"en","session":{"idle_timeout":"1m30s","max_duration":"1200s"},"panel":{"buzzer":"GPIO18"}}`))
	if err != nil {
		t.Fatalf("ParseOverlay = %v", err)
	}
	if got, want := o.Fields(), []string{"language", "panel.buzzer", "session.idle_timeout", "session.max_duration"}; !slices.Equal(got, want) {
		t.Errorf("Fields() = %v, want %v", got, want)
	}
	// Durations are canonical: 1200s and 20m0s are the same setting.
	if got, want := string(o["session.max_duration"]), `"20m0s"`; got != want {
		t.Errorf("max_duration = %s, want %s", got, want)
	}
	if got, want := string(o.JSON()), `{"language":"en","panel":{"buzzer":"GPIO18"},"session":{"idle_timeout":"1m30s","max_duration":"20m0s"}}`; got != want {
		t.Errorf("JSON() = %s, want %s", got, want)
	}
	again, err := ParseOverlay(o.JSON())
	if err != nil || again.Hash() != o.Hash() {
		t.Errorf("round trip: %v, hash %s, want %s", err, again.Hash(), o.Hash())
	}
}

func TestParseOverlayRefuses(t *testing.T) {
	tests := []struct {
		name, doc string
		fields    []string
	}{
		{"secret path", `{"mqtt":{"password_file":"/perm/x"}}`, []string{"mqtt.password_file"}},
		{"identity", `{"site":"other","kiosk_id":"k9"}`, []string{"kiosk_id", "site"}},
		{"broker", `{"mqtt":{"broker_url":"mqtts://evil:8883"}}`, []string{"mqtt.broker_url"}},
		{"unknown", `{"sesion":{"idle_timeout":"1m"}}`, []string{"sesion"}},
		{"wrong type", `{"session":{"idle_timeout":60},"display":{"dpi":"high"}}`, []string{"display.dpi", "session.idle_timeout"}},
		{"section not an object", `{"session":"short"}`, []string{"session"}},
		{"not an object", `["language"]`, []string{""}},
		{"too large", `{"language":"` + strings.Repeat("x", MaxOverlaySize) + `"}`, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOverlay([]byte(tt.doc))
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("ParseOverlay(%s) = %v, want Problems", tt.doc, err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.Field)
			}
			if !slices.Equal(got, tt.fields) {
				t.Errorf("problems at %v, want %v (%v)", got, tt.fields, ps)
			}
		})
	}
}

// TestManagedHasNoSecrets keeps secrets, identity and file paths out of
// what a central configuration may set.
func TestManagedHasNoSecrets(t *testing.T) {
	var c Config
	for _, p := range c.paths() {
		if IsManaged(p.name) {
			t.Errorf("%s names a file (secret: %v) but is managed centrally", p.name, p.secret)
		}
	}
	for _, f := range []string{"site", "kiosk_id", "mqtt.broker_url", "mqtt.username", "display.web_listen", "reader.backend"} {
		if IsManaged(f) {
			t.Errorf("%s is managed centrally", f)
		}
	}
	for _, f := range Managed() {
		if !slices.Contains(Fields(), f) {
			t.Errorf("managed %s is no field", f)
		}
	}
}

func TestOverlayApply(t *testing.T) {
	local := Reference()
	local.Panel.Tamper = "GPIO18"
	buzzer, _ := ParseOverlay([]byte(`{"panel":{"buzzer":"GPIO18"}}`))
	_, err := buzzer.Apply(local)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 1 || ps[0].Field != "panel.tamper" {
		t.Fatalf("Apply(buzzer on the tamper switch's pin) = %v, want a panel.tamper problem", err)
	}
	if _, err := buzzer.Apply(Reference()); err != nil {
		t.Fatalf("Apply(buzzer) on a kiosk without that pin = %v", err)
	}
	short, _ := ParseOverlay([]byte(`{"session":{"max_duration":"1m"}}`))
	if _, err := short.Apply(Reference()); err == nil {
		t.Error("Apply(max_duration shorter than idle + warning) = nil, want a problem")
	}
	idle, _ := ParseOverlay([]byte(`{"session":{"idle_timeout":"45s"},"language":"en"}`))
	c, err := idle.Apply(local)
	if err != nil {
		t.Fatal(err)
	}
	if c.Session.IdleTimeout.D() != 45*time.Second || c.Language != "en" || c.Panel.Tamper != "GPIO18" {
		t.Errorf("Apply = %+v", c)
	}
	if got, want := EffectiveHash(c, idle), idle.Hash(); got != want {
		t.Errorf("EffectiveHash of the applied config = %s, want the overlay's %s", got, want)
	}
	if EffectiveHash(local, idle) == idle.Hash() {
		t.Error("EffectiveHash of a config not running the overlay equals its hash")
	}
}

func TestOverlayMerge(t *testing.T) {
	fleet, _ := ParseOverlay([]byte(`{"language":"zh-TW","session":{"idle_timeout":"60s"}}`))
	group, _ := ParseOverlay([]byte(`{"session":{"idle_timeout":"90s"}}`))
	kiosk, _ := ParseOverlay([]byte(`{"language":"en"}`))
	m := fleet.Merge(group, kiosk)
	if got, want := string(m.JSON()), `{"language":"en","session":{"idle_timeout":"1m30s"}}`; got != want {
		t.Errorf("Merge = %s, want %s (later wins)", got, want)
	}
	if len(fleet) != 2 {
		t.Errorf("Merge changed its receiver: %v", fleet)
	}
}

func TestLoadOverlay(t *testing.T) {
	dir := t.TempDir()
	o, err := LoadOverlay(dir)
	if err != nil || len(o) != 0 {
		t.Fatalf("LoadOverlay(no file) = %v, %v; want empty", o, err)
	}
	os.WriteFile(filepath.Join(dir, CentralFileName), []byte(`{"display":{"theme":"large-text"}}`), 0o600)
	if o, err = LoadOverlay(dir); err != nil || string(o["display.theme"]) != `"large-text"` {
		t.Fatalf("LoadOverlay = %v, %v", o, err)
	}
	os.WriteFile(filepath.Join(dir, CentralFileName), []byte(`{"site":"x"}`), 0o600)
	if _, err = LoadOverlay(dir); err == nil {
		t.Fatal("LoadOverlay(unmanaged field) = nil error")
	}
}

func TestReferenceIsValid(t *testing.T) {
	if ps := Reference().Validate(); len(ps) > 0 {
		t.Fatalf("Reference().Validate() = %v", ps)
	}
}

func FuzzParseOverlay(f *testing.F) {
	f.Add([]byte(`{"language":"en","session":{"idle_timeout":"45s"}}`))
	f.Add([]byte(`{"panel":{"buzzer":"GPIO18","tamper":""},"display":{"dpi":133}}`))
	f.Add([]byte(`{"mqtt":{"password_file":"x"}}`))
	f.Add([]byte(`{"session":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := ParseOverlay(b)
		if err != nil {
			return
		}
		for _, p := range o.Fields() {
			if !IsManaged(p) {
				t.Fatalf("overlay sets unmanaged %s", p)
			}
		}
		again, err := ParseOverlay(o.JSON())
		if err != nil {
			t.Fatalf("re-parse %s: %v", o.JSON(), err)
		}
		if again.Hash() != o.Hash() {
			t.Fatalf("hash changed on a round trip: %s", o.JSON())
		}
		o.Apply(Reference())
	})
}

func TestOverlayList(t *testing.T) {
	o, err := ParseOverlay([]byte(`{"time":{"ntp_servers":["ntp.hospital.example","time.stdtime.gov.tw:123"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := o.Apply(Reference())
	if err != nil || len(c.Time.NTPServers) != 2 || c.Time.NTPServers[0] != "ntp.hospital.example" {
		t.Fatalf("Apply = %v, %v", c.Time.NTPServers, err)
	}
	if EffectiveHash(c, o) != o.Hash() {
		t.Error("a list's hash differs once applied")
	}
	if _, err := ParseOverlay([]byte(`{"time":{"rtc_bus":"1"}}`)); err == nil {
		t.Error("the RTC's bus (hardware) is managed centrally")
	}
}
