package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
var pinRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)

// Languages the kiosk speaks; the first is the default.
var Languages = []string{"zh-TW", "en"}

// Themes the display offers.
var Themes = []string{"default", "high-contrast", "large-text"}

// Validate returns every problem with c at once, each with its field path.
// It does not open any file c names.
func (c Config) Validate() Problems {
	var v validator
	v.name("site", c.Site)
	v.name("kiosk_id", c.KioskID)
	v.oneOf("language", c.Language, Languages)
	if c.DataDir == "" {
		v.add("data_dir", "must name a directory for the outbox and caches")
	}
	c.validateSession(&v)
	c.validateUpstream(&v)
	c.validateMQTT(&v)
	v.oneOf("reader.backend", c.Reader.Backend, []string{ReaderPCSC, ReaderCCID, ReaderVirtual})
	c.validateDisplay(&v)
	c.validatePanel(&v)
	c.validateAudio(&v)
	c.validateTime(&v)
	for _, p := range c.paths() {
		v.path(p.name, *p.value, p.secret)
	}
	return v.ps
}

func (c Config) validateSession(v *validator) {
	s := c.Session
	v.between("session.idle_timeout", s.IdleTimeout, 10*time.Second, 30*time.Minute)
	v.between("session.warning_countdown", s.WarningCountdown, 5*time.Second, 2*time.Minute)
	v.between("session.removed_screen", s.RemovedScreen, time.Second, 30*time.Second)
	v.between("session.max_duration", s.MaxDuration, time.Minute, 2*time.Hour)
	if s.MaxDuration < s.IdleTimeout+s.WarningCountdown {
		v.add("session.max_duration", "must be at least idle_timeout plus warning_countdown")
	}
}

func (c Config) validateUpstream(v *validator) {
	u := c.Upstream
	v.between("upstream.timeout", u.Timeout, time.Second, 2*time.Minute)
	if u.URL == "" {
		v.add("upstream.url", "must be set to the registration service's https URL")
		return
	}
	pu, err := url.Parse(u.URL)
	switch {
	case err != nil || pu.Host == "" || pu.User != nil || pu.RawQuery != "" || pu.Fragment != "":
		v.add("upstream.url", "must be an https URL such as https://nhi.example/ (no user, query or fragment)")
		return
	case pu.Scheme == "http" && isLoopback(pu.Hostname()):
		return // nhisim -dev on this machine: no TLS, no outbox key needed
	case pu.Scheme != "https":
		v.add("upstream.url", "must be an https URL (plain http only for a development server on loopback)")
		return
	}
	if u.ClientCertFile == "" {
		v.add("upstream.client_cert_file", "must be set: the kiosk identifies itself to an https upstream with its certificate")
	}
	if u.ClientKeyFile == "" {
		v.add("upstream.client_key_file", "must be set: the key that belongs to client_cert_file")
	}
	if u.AgeRecipient == "" {
		v.add("upstream.age_recipient", "must be set to the upstream's age public key (age1…) so queued registrations can be encrypted")
	} else if _, err := age.ParseX25519Recipient(u.AgeRecipient); err != nil {
		v.add("upstream.age_recipient", "must be an age X25519 public key starting with age1")
	}
}

func (c Config) validateMQTT(v *validator) {
	m := c.MQTT
	v.between("mqtt.health_interval", m.HealthInterval, 5*time.Second, time.Hour)
	if m.BrokerURL == "" {
		return // fleet reporting off
	}
	pu, err := url.Parse(m.BrokerURL)
	if err != nil || pu.Host == "" || pu.Port() == "" {
		v.add("mqtt.broker_url", "must be a URL with a port such as mqtts://broker.example:8883")
		return
	}
	switch pu.Scheme {
	case "mqtts", "ssl", "tls", "wss":
	case "mqtt", "tcp", "ws":
		if !isLoopback(pu.Hostname()) {
			v.add("mqtt.broker_url", "must use TLS (mqtts://); plain mqtt:// only to a broker on loopback")
		}
	default:
		v.add("mqtt.broker_url", "scheme must be mqtts, ssl, wss (or mqtt, tcp, ws on loopback)")
	}
	if m.Username == "" {
		v.add("mqtt.username", "must be set: each kiosk has its own broker credentials")
	}
	if m.OperatorKeysFile == "" {
		v.add("mqtt.operator_keys_file", "must be set: without operator keys the kiosk cannot check signed commands")
	}
	if (m.ClientCertFile == "") != (m.ClientKeyFile == "") {
		v.add("mqtt.client_key_file", "client_cert_file and client_key_file go together: set both or neither")
	}
}

func (c Config) validateDisplay(v *validator) {
	d := c.Display
	v.oneOf("display.backend", d.Backend, []string{DisplayGLFW, DisplayFBDev, DisplayHeadless, DisplayWeb})
	if host, port, err := net.SplitHostPort(d.WebListen); err != nil || !validPort(port) || strings.ContainsAny(host, "/ ") {
		v.add("display.web_listen", "must be host:port, e.g. "+DefaultWebListen+" (port 0 picks a free one)")
	}
	if (d.Width == 0) != (d.Height == 0) {
		v.add("display.height", "width and height go together: set both, or both 0 for the screen's own size")
	}
	for _, f := range []struct {
		name string
		val  int
	}{{"display.width", d.Width}, {"display.height", d.Height}} {
		if f.val != 0 && (f.val < 320 || f.val > 8192) {
			v.add(f.name, "must be between 320 and 8192 pixels, or 0 for the screen's own size")
		}
	}
	if d.DPI < 50 || d.DPI > 600 {
		v.add("display.dpi", "must be between 50 and 600 (a 7\" 800×480 panel is about 133)")
	}
	if d.FontFile == "" {
		v.add("display.font_file", "must name a font with Traditional Chinese, e.g. "+DebianFont+" (Debian package fonts-noto-cjk)")
	}
	if d.FontIndex < 0 || d.FontIndex > 63 {
		v.add("display.font_index", "must be between 0 and 63 (the face inside a .ttc collection)")
	}
	v.oneOf("display.theme", d.Theme, Themes)
	switch {
	case d.Rotation != 0 && d.Rotation != 90 && d.Rotation != 180 && d.Rotation != 270:
		v.add("display.rotation", "must be 0, 90, 180 or 270 (degrees clockwise)")
	case d.Rotation != 0 && d.Backend != DisplayFBDev:
		v.add("display.rotation", "only the fbdev backend turns the frame; a window system rotates its own screens")
	}
	if strings.ContainsAny(d.Backlight, "/\x00") || d.Backlight == "." || d.Backlight == ".." {
		v.add("display.backlight", "must be a device name under /sys/class/backlight, not a path")
	}
}

func (c Config) validatePanel(v *validator) {
	p := c.Panel
	pins := []struct{ name, val string }{
		{"panel.led_ready", p.LEDReady}, {"panel.led_busy", p.LEDBusy},
		{"panel.led_fault", p.LEDFault}, {"panel.buzzer", p.Buzzer},
		{"panel.presence", p.Presence}, {"panel.tamper", p.Tamper},
		{"panel.key_up", p.KeyUp}, {"panel.key_down", p.KeyDown}, {"panel.key_select", p.KeySelect},
		{"panel.key_back", p.KeyBack}, {"panel.key_help", p.KeyHelp}, {"panel.headphones", p.Headphones},
	}
	used := map[string]string{}
	for _, pin := range pins {
		if pin.val == "" {
			continue
		}
		if !pinRE.MatchString(pin.val) {
			v.add(pin.name, "must be a GPIO pin name such as GPIO17, or empty when not fitted")
			continue
		}
		if other, dup := used[pin.val]; dup {
			v.add(pin.name, fmt.Sprintf("pin %s is already used by %s", pin.val, other))
			continue
		}
		used[pin.val] = pin.name
	}
}

// maxNTPServers bounds time.ntp_servers: they are all asked every round.
const maxNTPServers = 8

var hostRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,62})?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62})?)*\.?$`)

func (c Config) validateTime(v *validator) {
	t := c.Time
	v.between("time.sync_interval", t.SyncInterval, time.Minute, 24*time.Hour)
	if len(t.NTPServers) > maxNTPServers {
		v.add("time.ntp_servers", fmt.Sprintf("must list at most %d servers", maxNTPServers))
	}
	seen := map[string]bool{}
	for i, s := range t.NTPServers {
		field := fmt.Sprintf("time.ntp_servers[%d]", i)
		switch {
		case !validServer(s):
			v.add(field, "must be a host name or IP address, optionally with :port, such as ntp.hospital.example or 10.1.2.3:123")
		case seen[s]:
			v.add(field, fmt.Sprintf("%s is listed twice", s))
		}
		seen[s] = true
	}
	if t.RTCBus != "" && !pinRE.MatchString(t.RTCBus) {
		v.add("time.rtc_bus", "must be an I²C bus name such as 1 or I2C1, or empty when no DS3231 is fitted")
	}
}

// validServer reports whether s is "host", "ip", "host:port" or
// "[ipv6]:port".
func validServer(s string) bool {
	host := s
	if h, port, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return false
		}
		host = h
	}
	if net.ParseIP(host) != nil {
		return true
	}
	return len(host) <= 253 && hostRE.MatchString(host)
}

type validator struct{ ps Problems }

func (v *validator) add(field, reason string) { v.ps = append(v.ps, Problem{field, reason}) }

func (v *validator) name(field, s string) {
	if s == "" {
		v.add(field, "must be set (lower-case letters, digits and '-')")
	} else if !nameRE.MatchString(s) {
		v.add(field, "must be 1–63 lower-case letters, digits and '-', starting with a letter or digit")
	}
}

func (v *validator) oneOf(field, s string, allowed []string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.add(field, fmt.Sprintf("must be one of %s", strings.Join(quoteAll(allowed), ", ")))
}

func (v *validator) between(field string, d Duration, lo, hi time.Duration) {
	if d.D() < lo || d.D() > hi {
		v.add(field, fmt.Sprintf("must be between %v and %v", lo, hi))
	}
}

// path checks a field that names a file. Secrets must be paths: a value that
// looks like the secret itself is refused so it never sits in config.json.
func (v *validator) path(field, s string, secret bool) {
	switch {
	case s == "":
	case strings.ContainsAny(s, "\x00\n\r"):
		v.add(field, "must be a file path on one line")
	case secret && (strings.Contains(s, "-----BEGIN") || strings.Contains(s, " ")):
		v.add(field, "must be the path of a file holding the secret, never the secret itself")
	case strings.HasSuffix(s, "/") && field != "data_dir":
		v.add(field, "must name a file, not a directory")
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c Config) validateAudio(v *validator) {
	a := c.Audio
	v.oneOf("audio.backend", a.Backend, []string{AudioALSA, AudioOff})
	if a.Volume < 0 || a.Volume > 100 {
		v.add("audio.volume", "must be between 0 and 100 (percent)")
	}
	if strings.ContainsAny(a.Device, "/ \x00") {
		v.add("audio.device", "must be an ALSA card number or id such as Headphones, not a path")
	}
}
