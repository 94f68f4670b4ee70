// Package config owns the one typed configuration of a kiosk: its fields,
// their defaults, loading them from config.json, overriding single fields
// from flags, and validating the result.
//
// It imports nothing of ours, so every other package may depend on it. It
// never opens the files a configuration names (certificates, keys, password
// files): it only checks that the names are well formed. Secrets are always
// file paths, never inline values, so a printed configuration is safe to show.
package config

import (
	"encoding/json"
	"fmt"
	"time"
)

// FileName is the name of the configuration file inside the configuration
// directory (on the appliance /perm/nhikiosk).
const FileName = "config.json"

// ApplianceDir is where the configuration directory lives on a gokrazy
// appliance: /perm survives updates and reboots.
const ApplianceDir = "/perm/nhikiosk"

// Config is the whole configuration of one kiosk. The zero value is not
// useful; start from Default.
type Config struct {
	// Site names the place the kiosk stands, e.g. "taipei-branch". Used in
	// fleet topics, so only lower-case letters, digits and '-'.
	Site string `json:"site"`
	// KioskID names the kiosk within its site, same alphabet as Site.
	KioskID string `json:"kiosk_id"`
	// Language is the language the attract screen starts in: "zh-TW" or "en".
	Language string `json:"language"`
	// DataDir holds the kiosk's durable state (outbox, caches). Relative
	// paths in the file are resolved against the configuration directory.
	DataDir  string   `json:"data_dir"`
	Session  Session  `json:"session"`
	Upstream Upstream `json:"upstream"`
	MQTT     MQTT     `json:"mqtt"`
	Reader   Reader   `json:"reader"`
	Display  Display  `json:"display"`
	Panel    Panel    `json:"panel"`
	Time     Time     `json:"time"`
	Audio    Audio    `json:"audio"`
}

// Audio backends (issue 20).
const (
	AudioALSA = "alsa" // the kernel's sound card through /dev/snd, pure Go
	AudioOff  = "off"  // no speech: audio mode cannot start
)

// Audio is the headphone output of audio mode (issue 20): speech for
// people who cannot see the screen, on headphones only.
type Audio struct {
	// Backend is "alsa" or "off".
	Backend string `json:"backend"`
	// Device is the ALSA card of the headphone output: its number or id
	// ("Headphones" on a Raspberry Pi 4, "Device" for many USB adapters).
	// Empty picks the Pi's jack, else a USB card, else any card but HDMI.
	// Never name a card that drives a loudspeaker.
	Device string `json:"device"`
	// Volume is the starting volume in percent (the volume keys change it
	// for one session).
	Volume int `json:"volume"`
}

// Session holds the timeouts that protect a person's data at the kiosk.
type Session struct {
	// IdleTimeout is how long without a touch before the idle warning.
	IdleTimeout Duration `json:"idle_timeout"`
	// WarningCountdown is how long the idle warning counts down before the
	// session is wiped.
	WarningCountdown Duration `json:"warning_countdown"`
	// RemovedScreen is how long "your card was removed" stays up.
	RemovedScreen Duration `json:"removed_screen"`
	// MaxDuration ends any session, active or not, after this long.
	MaxDuration Duration `json:"max_duration"`
}

// Upstream is the registration service the kiosk submits to.
type Upstream struct {
	// URL is the base URL of the upstream API; https, or http on loopback
	// for development against nhisim -dev.
	URL string `json:"url"`
	// ClientCertFile and ClientKeyFile are the kiosk's own certificate and
	// key (PEM), which identify it to the upstream (mutual TLS).
	ClientCertFile string `json:"client_cert_file"`
	ClientKeyFile  string `json:"client_key_file"`
	// CAFile is the CA bundle (PEM) that signs the upstream's certificate.
	// Empty means the system roots.
	CAFile string `json:"ca_file"`
	// AgeRecipient is the upstream's age X25519 public key ("age1…"); queued
	// registrations are encrypted to it so the kiosk cannot read them back.
	// It is a public key, not a secret.
	AgeRecipient string `json:"age_recipient"`
	// Timeout bounds one request to the upstream.
	Timeout Duration `json:"timeout"`
}

// MQTT is the fleet connection.
type MQTT struct {
	// BrokerURL is the broker, e.g. "mqtts://fleet.example:8883"; empty
	// disables fleet reporting.
	BrokerURL string `json:"broker_url"`
	// Username is the kiosk's broker user name (not a secret).
	Username string `json:"username"`
	// PasswordFile holds the broker password.
	PasswordFile string `json:"password_file"`
	// CAFile, ClientCertFile, ClientKeyFile configure TLS to the broker.
	CAFile         string `json:"ca_file"`
	ClientCertFile string `json:"client_cert_file"`
	ClientKeyFile  string `json:"client_key_file"`
	// OperatorKeysFile lists the Ed25519 public keys whose signed commands
	// the kiosk obeys.
	OperatorKeysFile string `json:"operator_keys_file"`
	// HealthInterval is how often health is published.
	HealthInterval Duration `json:"health_interval"`
}

// Reader backends.
const (
	ReaderPCSC    = "pcsc"    // PC/SC through pcscd (cgo)
	ReaderCCID    = "ccid"    // CCID over Linux usbfs (pure Go, gokrazy)
	ReaderVirtual = "virtual" // an in-process virtual NHI card (demo)
)

// Reader selects how the NHI card is reached.
type Reader struct {
	// Backend is "pcsc", "ccid" or "virtual".
	Backend string `json:"backend"`
	// Name selects one reader by name (PC/SC) or sysfs path (CCID); empty
	// means the first one found.
	Name string `json:"name"`
}

// Display backends.
const (
	DisplayGLFW     = "glfw"     // a window (cgo)
	DisplayFBDev    = "fbdev"    // /dev/fb0 and evdev (pure Go, gokrazy)
	DisplayHeadless = "headless" // frames in memory
	DisplayWeb      = "web"      // a page in a browser, served on loopback (not in the gokrazy image)
)

// Display selects the screen and how text is drawn on it.
type Display struct {
	// Backend is "glfw", "fbdev", "headless" or "web".
	Backend string `json:"backend"`
	// Width and Height in pixels; 0 takes the framebuffer's own size.
	Width  int `json:"width"`
	Height int `json:"height"`
	// DPI of the panel, used to keep touch targets at least 9 mm.
	DPI float64 `json:"dpi"`
	// Fullscreen makes the GLFW window fullscreen and undecorated.
	Fullscreen bool `json:"fullscreen"`
	// FontFile is an OpenType font or collection with Traditional Chinese.
	FontFile string `json:"font_file"`
	// FontIndex picks the face inside a collection (.ttc).
	FontIndex int `json:"font_index"`
	// Theme is "default", "high-contrast" or "large-text".
	Theme string `json:"theme"`
	// Backlight is the /sys/class/backlight device name; empty disables
	// dimming.
	Backlight string `json:"backlight"`
	// Rotation turns the frame on a panel mounted rotated, in degrees
	// clockwise: 0, 90, 180 or 270 (fbdev only; touches follow). Touch
	// Display 2 is a 720×1280 portrait panel: mounted in landscape it
	// takes 90 or 270.
	Rotation int `json:"rotation"`
	// WebListen is where the web backend serves its page, host:port. Off
	// loopback anyone who reaches it can use the kiosk, so the kiosk then
	// warns loudly; it never needs to be.
	WebListen string `json:"web_listen"`
}

// Panel names the GPIO pins of the kiosk's physical I/O (periph.io names,
// e.g. "GPIO17"). An empty name means that part is not fitted.
type Panel struct {
	LEDReady string `json:"led_ready"`
	LEDBusy  string `json:"led_busy"`
	LEDFault string `json:"led_fault"`
	Buzzer   string `json:"buzzer"`
	Presence string `json:"presence"`
	Tamper   string `json:"tamper"`
	// The tactile keys of audio mode (issue 20): buttons to ground.
	KeyUp     string `json:"key_up"`
	KeyDown   string `json:"key_down"`
	KeySelect string `json:"key_select"`
	KeyBack   string `json:"key_back"`
	KeyHelp   string `json:"key_help"`
	// Headphones is the headphone jack's detect switch (closed to ground
	// while a plug is in).
	Headphones string `json:"headphones"`
}

// Time says where the appliance's clock comes from (issue 21). The kiosk
// also asks an https upstream for its time over mutual TLS, and keeps the
// time it last knew under data_dir; docs/appliance.md says which source
// wins.
type Time struct {
	// NTPServers are NTP servers to ask ("host" or "host:port"), such as a
	// hospital's own; empty asks none.
	NTPServers []string `json:"ntp_servers"`
	// RTCBus is the I²C bus (periph.io name, e.g. "1" on a Raspberry Pi)
	// of a DS3231 real-time clock; empty means none is fitted.
	RTCBus string `json:"rtc_bus"`
	// SyncInterval is how often the sources are asked once the time is
	// known (sooner while it is not).
	SyncInterval Duration `json:"sync_interval"`
}

// Duration is a time.Duration written in JSON as a Go duration string
// ("60s", "1m30s").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string such as "45s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"60s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as \"60s\", got %q", s)
	}
	*d = Duration(v)
	return nil
}
