package config

import "time"

// DebianFont is where Debian's fonts-noto-cjk package puts the collection
// that holds Noto Sans CJK TC, and DebianFontIndex is that face's index.
const (
	DebianFont      = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
	DebianFontIndex = 3
)

// DefaultWebListen is where the web display serves unless told otherwise:
// loopback, on a port fixed so that an SSH tunnel to it can be set up once
// (ssh -L 8480:127.0.0.1:8480 host).
const DefaultWebListen = "127.0.0.1:8480"

// Default returns the configuration every kiosk starts from; config.json
// only needs the fields that differ. This is the one place defaults live:
// the README's configuration reference is checked against it.
//
// The defaults describe an appliance: PC/SC is not there, so the reader is
// CCID over usbfs and the display is the framebuffer. Site, kiosk id and the
// upstream have no sensible default and must be set.
func Default() Config {
	return Config{
		Language: "zh-TW",
		DataDir:  "data",
		Session: Session{
			IdleTimeout:      Duration(60 * time.Second),
			WarningCountdown: Duration(20 * time.Second),
			RemovedScreen:    Duration(4 * time.Second),
			MaxDuration:      Duration(20 * time.Minute),
		},
		Upstream: Upstream{
			Timeout: Duration(15 * time.Second),
		},
		MQTT: MQTT{
			HealthInterval: Duration(30 * time.Second),
		},
		Reader: Reader{Backend: ReaderCCID},
		Time: Time{
			NTPServers:   []string{"time.stdtime.gov.tw", "pool.ntp.org"},
			SyncInterval: Duration(time.Hour),
		},
		Display: Display{
			Backend:   DisplayFBDev,
			DPI:       96,
			FontFile:  DebianFont,
			FontIndex: DebianFontIndex,
			Theme:     "default",
			WebListen: DefaultWebListen,
		},
		Audio: Audio{Backend: AudioALSA, Volume: 80},
	}
}

// Demo returns the configuration of `kiosk -demo`: a window on a developer
// machine, an in-process virtual card and an in-process upstream (nhisim in
// dev mode on loopback, whose URL the demo fills in once it listens).
func Demo() Config {
	c := Default()
	c.Site = "demo"
	c.KioskID = "demo-1"
	c.Upstream.URL = "http://127.0.0.1:0"
	c.Reader.Backend = ReaderVirtual
	c.Display.Backend = DisplayGLFW
	c.Display.Width = 1280
	c.Display.Height = 800
	c.Display.DPI = 96
	return c
}
