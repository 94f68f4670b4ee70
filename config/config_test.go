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

func TestLoadFileGood(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		check func(t *testing.T, c Config)
	}{
		{"appliance", "good-appliance.json", func(t *testing.T, c Config) {
			if got, want := c.Upstream.ClientKeyFile, filepath.Join(absTestdata(t), "kiosk.key"); got != want {
				t.Errorf("client_key_file = %q, want %q (resolved against the file's directory)", got, want)
			}
			if got, want := c.Reader.Backend, ReaderCCID; got != want {
				t.Errorf("reader.backend = %q, want default %q", got, want)
			}
			if got, want := c.Session.IdleTimeout.D(), 60*time.Second; got != want {
				t.Errorf("session.idle_timeout = %v, want default %v", got, want)
			}
			if got, want := c.Display.DPI, 133.0; got != want {
				t.Errorf("display.dpi = %v, want %v", got, want)
			}
			if got, want := c.Time.NTPServers, []string{"ntp.hospital.example", "10.1.2.3:123"}; !slices.Equal(got, want) {
				t.Errorf("time.ntp_servers = %q, want %q", got, want)
			}
			if got, want := c.Time.SyncInterval.D(), time.Hour; got != want {
				t.Errorf("time.sync_interval = %v, want default %v", got, want)
			}
		}},
		{"dev on loopback", "good-dev.json", func(t *testing.T, c Config) {
			if got, want := c.Session.IdleTimeout.D(), 30*time.Second; got != want {
				t.Errorf("session.idle_timeout = %v, want %v", got, want)
			}
			if got, want := c.DataDir, "/tmp/nhikiosk"; got != want {
				t.Errorf("data_dir = %q, want absolute path kept as %q", got, want)
			}
			if got, want := c.Reader.Name, "Virtual PCD 00 00"; got != want {
				t.Errorf("reader.name = %q, want %q", got, want)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatalf("LoadFile(%s) = %v, want no error", tt.file, err)
			}
			tt.check(t, c)
		})
	}
}

func absTestdata(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLoadFileBad(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string // every problem, in order
	}{
		{"syntax", "bad-syntax.json", []string{
			"not valid JSON: invalid character ',' looking for beginning of object key string at line 3, column 25",
		}},
		{"many", "bad-many.json", []string{
			"colour: unknown field (check the spelling against the configuration reference)",
			"display.dpi: must be a number",
			"display.fullscreen: must be true or false",
			"session.idle_timeout: must be a duration such as \"60s\" or \"2m\"",
			"site: must be 1–63 lower-case letters, digits and '-', starting with a letter or digit",
			"kiosk_id: must be set (lower-case letters, digits and '-')",
			"language: must be one of \"zh-TW\", \"en\"",
			"session.warning_countdown: must be between 5s and 2m0s",
			"upstream.url: must be an https URL (plain http only for a development server on loopback)",
			"mqtt.broker_url: must use TLS (mqtts://); plain mqtt:// only to a broker on loopback",
			"mqtt.username: must be set: each kiosk has its own broker credentials",
			"mqtt.operator_keys_file: must be set: without operator keys the kiosk cannot check signed commands",
			"reader.backend: must be one of \"pcsc\", \"ccid\", \"virtual\"",
			"display.height: width and height go together: set both, or both 0 for the screen's own size",
			"display.width: must be between 320 and 8192 pixels, or 0 for the screen's own size",
			"panel.buzzer: pin GPIO17 is already used by panel.led_ready",
			"panel.tamper: must be a GPIO pin name such as GPIO17, or empty when not fitted",
			"time.sync_interval: must be between 1m0s and 24h0m0s",
			"time.ntp_servers[1]: must be a host name or IP address, optionally with :port, such as ntp.hospital.example or 10.1.2.3:123",
			"time.ntp_servers[2]: ntp.example is listed twice",
			"time.ntp_servers[3]: must be a host name or IP address, optionally with :port, such as ntp.hospital.example or 10.1.2.3:123",
			"time.rtc_bus: must be an I²C bus name such as 1 or I2C1, or empty when no DS3231 is fitted",
			"upstream.client_key_file: must be the path of a file holding the secret, never the secret itself",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFile(filepath.Join("testdata", tt.file))
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("LoadFile(%s) = %v, want Problems", tt.file, err)
			}
			got := strings.Split(ps.Error(), "\n")
			if !slices.Equal(got, tt.want) {
				t.Errorf("LoadFile(%s) problems:\n%s\nwant:\n%s", tt.file, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(t.TempDir())
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Load(empty dir) = %v, want ErrNotFound", err)
	}
}

func TestLoadTooLarge(t *testing.T) {
	dir := t.TempDir()
	big := `{"site":"` + strings.Repeat("a", MaxFileSize) + `"}`
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(huge file) = %v, want a size error", err)
	}
}

func TestUpstreamRules(t *testing.T) {
	tests := []struct {
		name, url string
		wantField string // "" when valid
	}{
		{"https needs cert", "https://reg.example/", "upstream.client_cert_file"},
		{"http loopback v4", "http://127.0.0.1:8080", ""},
		{"http loopback name", "http://localhost:8080", ""},
		{"http loopback v6", "http://[::1]:8080", ""},
		{"http remote", "http://10.0.0.1/", "upstream.url"},
		{"userinfo", "https://user:pw@reg.example/", "upstream.url"},
		{"not a url", "reg.example", "upstream.url"},
		{"empty", "", "upstream.url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Demo()
			c.Upstream.URL = tt.url
			ps := c.Validate()
			if tt.wantField == "" {
				if len(ps) != 0 {
					t.Errorf("Validate(url=%q) = %v, want no problems", tt.url, ps)
				}
				return
			}
			if len(ps) == 0 || ps[0].Field != tt.wantField {
				t.Errorf("Validate(url=%q) = %v, want first problem at %s", tt.url, ps, tt.wantField)
			}
		})
	}
}

// TestTimeRules checks the time section's servers one by one.
func TestTimeRules(t *testing.T) {
	tests := []struct {
		servers []string
		ok      bool
	}{
		{[]string{"ntp.hospital.example", "10.1.2.3", "10.1.2.3:1123", "[fe80::1]:123", "::1", "ntp"}, true},
		{nil, true},
		{[]string{""}, false},
		{[]string{"ntp.example:0"}, false},
		{[]string{"ntp.example:ntp"}, false},
		{[]string{"-bad.example"}, false},
		{[]string{"ntp_1.example"}, false},
		{[]string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}, false},
	}
	for _, tt := range tests {
		c := Demo()
		c.Time.NTPServers = tt.servers
		if ps := c.Validate(); (len(ps) == 0) != tt.ok {
			t.Errorf("Validate(ntp_servers=%q) = %v, want ok %v", tt.servers, ps, tt.ok)
		}
	}
	if _, err := Parse([]byte(`{"site":"a","kiosk_id":"b","upstream":{"url":"http://127.0.0.1:1"},"time":{"ntp_servers":"one"}}`), Default()); err == nil ||
		!strings.Contains(err.Error(), "time.ntp_servers: must be a list of strings") {
		t.Errorf("Parse(ntp_servers as a string) = %v, want a list problem", err)
	}
}

// TestWebDisplay: the web backend is chosen like any other, and where it
// listens is checked (anywhere is allowed: the kiosk warns at start).
func TestWebDisplay(t *testing.T) {
	tests := []struct {
		name, listen string
		ok           bool
	}{
		{"default", DefaultWebListen, true},
		{"free port", "127.0.0.1:0", true},
		{"name", "localhost:9000", true},
		{"v6", "[::1]:8480", true},
		{"every interface", ":8480", true},
		{"no port", "127.0.0.1", false},
		{"port too big", "127.0.0.1:70000", false},
		{"named port", "127.0.0.1:http", false},
		{"url", "http://127.0.0.1:8480", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Demo()
			if err := c.Set("display.backend", "web"); err != nil {
				t.Fatal(err)
			}
			if err := c.Set("display.web_listen", tt.listen); err != nil {
				t.Fatal(err)
			}
			ps := c.Validate()
			if tt.ok && len(ps) != 0 {
				t.Errorf("Validate(web_listen=%q) = %v, want no problems", tt.listen, ps)
			}
			if !tt.ok && (len(ps) != 1 || ps[0].Field != "display.web_listen") {
				t.Errorf("Validate(web_listen=%q) = %v, want one problem at display.web_listen", tt.listen, ps)
			}
		})
	}
}

func TestAgeRecipient(t *testing.T) {
	c := Demo()
	c.Upstream.URL = "https://reg.example/"
	c.Upstream.ClientCertFile, c.Upstream.ClientKeyFile = "/k.crt", "/k.key"
	c.Upstream.AgeRecipient = "age1notakey"
	ps := c.Validate()
	if len(ps) != 1 || ps[0].Field != "upstream.age_recipient" {
		t.Errorf("Validate(bad age key) = %v, want one problem at upstream.age_recipient", ps)
	}
}

func TestDefaultsNeedOnlyIdentity(t *testing.T) {
	c := Default()
	var fields []string
	for _, p := range c.Validate() {
		fields = append(fields, p.Field)
	}
	if want := []string{"site", "kiosk_id", "upstream.url"}; !slices.Equal(fields, want) {
		t.Errorf("Default().Validate() fields = %v, want %v", fields, want)
	}
	if ps := Demo().Validate(); len(ps) != 0 {
		t.Errorf("Demo().Validate() = %v, want none", ps)
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		path, value string
		check       func(c Config) bool
		wantErr     string
	}{
		{"display.dpi", "133", func(c Config) bool { return c.Display.DPI == 133 }, ""},
		{"display.fullscreen", "true", func(c Config) bool { return c.Display.Fullscreen }, ""},
		{"display.width", "1080", func(c Config) bool { return c.Display.Width == 1080 }, ""},
		{"session.idle_timeout", "90s", func(c Config) bool { return c.Session.IdleTimeout.D() == 90*time.Second }, ""},
		{"upstream.url", "https://x.example/", func(c Config) bool { return c.Upstream.URL == "https://x.example/" }, ""},
		{"display.width", "wide", nil, "display.width: must be a whole number"},
		{"display.colour", "red", nil, "display.colour: unknown field"},
		{"display", "x", nil, "display: is a section"},
		{"session.idle_timeout.x", "1", nil, "not a field"},
		{"session.idle_timeout", "soon", nil, "must be a duration"},
		{"time.ntp_servers", "ntp.a.example, 10.0.0.1:123", func(c Config) bool {
			return slices.Equal(c.Time.NTPServers, []string{"ntp.a.example", "10.0.0.1:123"})
		}, ""},
		{"time.ntp_servers", "", func(c Config) bool { return len(c.Time.NTPServers) == 0 }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path+"="+tt.value, func(t *testing.T) {
			c := Default()
			err := c.Set(tt.path, tt.value)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Set(%s, %s) = %v, want error containing %q", tt.path, tt.value, err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Errorf("Set(%s, %s) = %v; field not set", tt.path, tt.value, err)
			}
		})
	}
}

func TestFieldsAllSettable(t *testing.T) {
	fs := Fields()
	if len(fs) < 30 {
		t.Fatalf("Fields() = %d fields, want the whole configuration", len(fs))
	}
	for _, f := range fs {
		c := Default()
		if err := c.Set(f, "1"); err != nil && strings.Contains(err.Error(), "unknown") {
			t.Errorf("Set(%s) = %v; Fields lists a field Set cannot reach", f, err)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	c, err := LoadFile("testdata/good-appliance.json")
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(c.JSON(), Config{})
	if err != nil {
		t.Fatalf("Parse(JSON()) = %v", err)
	}
	if string(back.JSON()) != string(c.JSON()) {
		t.Errorf("JSON round trip changed the configuration:\n%s\nvs\n%s", back.JSON(), c.JSON())
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"good-appliance.json", "good-dev.json", "bad-many.json", "bad-syntax.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"session":{"idle_timeout":{}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b, Default())
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("Parse error %v is not a non-empty Problems", err)
			}
			for _, p := range ps {
				if p.Reason == "" {
					t.Fatalf("problem at %q has no reason", p.Field)
				}
			}
			return
		}
		if ps := c.Validate(); len(ps) != 0 {
			t.Fatalf("Parse accepted a configuration that Validate refuses: %v", ps)
		}
		if _, err := Parse(c.JSON(), Config{}); err != nil {
			t.Fatalf("Parse(JSON()) of an accepted configuration = %v", err)
		}
	})
}
