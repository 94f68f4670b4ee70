package fleet

import (
	"fmt"
	"time"
)

// ClockHealth is where the kiosk's time came from (issue 21): a kiosk that
// booted without the time is out of service until a source answers.
type ClockHealth struct {
	// Known is false while the kiosk waits for the correct time.
	Known bool `json:"known"`
	// Source is the kind of source that last set or confirmed the clock;
	// empty while unknown.
	Source ClockSource `json:"source,omitempty"`
	// Server is that source's server as configured (an NTP server, the
	// upstream's host), a Token.
	Server Token `json:"server,omitempty"`
	// LastSync is when the source last set or confirmed the clock.
	LastSync *time.Time `json:"last_sync,omitempty"`
	// WaitedS is how many seconds the kiosk waited for the time after it
	// started (0: it had the time at once).
	WaitedS int64 `json:"waited_s,omitempty"`
	// Vouched says the upstream's authenticated time agrees with the
	// clock (its last two answers agreed); false while only NTP, the RTC
	// or the kernel's clock set it.
	Vouched bool `json:"vouched,omitempty"`
	// FloorAheadS is how many seconds the kiosk's floor (the time saved
	// at its last run) lies ahead of the upstream's authenticated time,
	// while that time is refused as before it: the kiosk takes it after
	// a day, or when staff remove clock.json (docs/appliance.md); capped
	// at MaxFloorAheadS.
	FloorAheadS int64 `json:"floor_ahead_s,omitempty"`
}

// MaxFloorAheadS bounds ClockHealth.FloorAheadS (a century).
const MaxFloorAheadS = 100 * 365 * 24 * 3600

// ClockSource is a kind of time source.
type ClockSource string

// Time sources (docs/appliance.md, "The clock").
const (
	ClockUpstream ClockSource = "upstream" // the upstream over mutual TLS
	ClockNTP      ClockSource = "ntp"      // an NTP server of the configuration
	ClockRTC      ClockSource = "rtc"      // the DS3231 battery-backed clock
	ClockSystem   ClockSource = "system"   // the kernel's clock as found at start
)

var clockSources = set(ClockUpstream, ClockNTP, ClockRTC, ClockSystem)

// Validate checks the clock's part of a health payload.
func (c *ClockHealth) Validate() error {
	if c == nil {
		return nil
	}
	if c.Source != "" && !clockSources[c.Source] {
		return fmt.Errorf("health: unknown clock source %q", c.Source)
	}
	if !c.Server.Valid() {
		return fmt.Errorf("health: clock server is not a token")
	}
	if c.WaitedS < 0 || c.WaitedS > MaxUptimeS {
		return fmt.Errorf("health: clock wait %d s out of range", c.WaitedS)
	}
	if c.FloorAheadS < 0 || c.FloorAheadS > MaxFloorAheadS {
		return fmt.Errorf("health: clock floor ahead %d s out of range", c.FloorAheadS)
	}
	return nil
}
