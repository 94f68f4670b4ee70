package fleet

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestClockHealth: the clock's fields are optional (older kiosks omit
// them), enumerated and token-checked.
func TestClockHealth(t *testing.T) {
	at := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		c    *ClockHealth
		ok   bool
	}{
		{"absent", nil, true},
		{"waiting", &ClockHealth{}, true},
		{"from ntp", &ClockHealth{Known: true, Source: ClockNTP, Server: "ntp.hospital.example", LastSync: &at, WaitedS: 42}, true},
		{"from upstream", &ClockHealth{Known: true, Source: ClockUpstream, Server: "10.0.2.100:8443", LastSync: &at}, true},
		{"unknown source", &ClockHealth{Known: true, Source: "gps"}, false},
		{"server not a token", &ClockHealth{Known: true, Source: ClockNTP, Server: "[fe80::1]:123"}, false},
		{"negative wait", &ClockHealth{WaitedS: -1}, false},
		{"wait longer than any uptime", &ClockHealth{WaitedS: MaxUptimeS + 1}, false},
		{"floor ahead", &ClockHealth{Source: ClockNTP, Known: true, FloorAheadS: 2 * 365 * 24 * 3600}, true},
		{"vouched", &ClockHealth{Source: ClockNTP, Known: true, Vouched: true}, true},
		{"floor behind", &ClockHealth{FloorAheadS: -1}, false},
		{"floor beyond the cap", &ClockHealth{FloorAheadS: MaxFloorAheadS + 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Health{V: SchemaVersion, Clock: tt.c}
			if err := h.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate = %v, want ok %v", err, tt.ok)
			}
		})
	}
	b, _ := json.Marshal(Health{V: SchemaVersion})
	if strings.Contains(string(b), "clock") {
		t.Errorf("health without a clock marshals %s", b)
	}
	b, _ = json.Marshal(Health{V: SchemaVersion, Clock: &ClockHealth{Known: true, Source: ClockUpstream, Server: "reg.nhi.example", LastSync: &at, WaitedS: 75}})
	if want := `"clock":{"known":true,"source":"upstream","server":"reg.nhi.example","last_sync":"2026-11-30T06:00:00Z","waited_s":75}`; !strings.Contains(string(b), want) {
		t.Errorf("health marshals %s, want %s in it", b, want)
	}
}
