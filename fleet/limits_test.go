package fleet

import (
	"encoding/json"
	"math"
	"testing"
)

// TestHealthRanges: out-of-range numbers are refused (issue 14, finding 9:
// −1e300 °C was shown as a 300-digit number).
func TestHealthRanges(t *testing.T) {
	ok := func() Health {
		temp := 51.5
		return Health{V: 1, UptimeS: 3600, CPUTempC: &temp, Load1: 0.4, MemUsedPct: 31, PermFreePct: 72,
			PermFreeBytes: 20 << 30, Upstream: UpstreamHealth{LastLatencyMS: 42}}
	}
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name string
		mod  func(*Health)
		ok   bool
	}{
		{"plausible", func(*Health) {}, true},
		{"no temperature sensor", func(h *Health) { h.CPUTempC = nil }, true},
		{"freezing kiosk", func(h *Health) { h.CPUTempC = f(-20) }, true},
		{"−1e300 °C", func(h *Health) { h.CPUTempC = f(-1e300) }, false},
		{"1e300 °C", func(h *Health) { h.CPUTempC = f(1e300) }, false},
		{"NaN °C", func(h *Health) { h.CPUTempC = f(math.NaN()) }, false},
		{"negative load", func(h *Health) { h.Load1 = -1 }, false},
		{"load 1e9", func(h *Health) { h.Load1 = 1e9 }, false},
		{"memory 101 %", func(h *Health) { h.MemUsedPct = 101 }, false},
		{"free −5 %", func(h *Health) { h.PermFreePct = -5 }, false},
		{"negative uptime", func(h *Health) { h.UptimeS = -1 }, false},
		{"negative latency", func(h *Health) { h.Upstream.LastLatencyMS = -1 }, false},
		{"negative outbox", func(h *Health) { h.Outbox.Depth = -3 }, false},
		{"sessions 1e18", func(h *Health) { h.Sessions.Started = 1e18 }, false},
		{"errors 1e18", func(h *Health) { h.Errors = map[ErrorKind]uint64{ErrKindCard: 1e18} }, false},
		{"exabytes free", func(h *Health) { h.PermFreeBytes = math.MaxUint64 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := ok()
			tt.mod(&h)
			if err := h.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestLimitsFitTheSchema: the largest payload a real kiosk sends fits its
// channel's limit, and every limit fits in a packet.
func TestLimitsFitTheSchema(t *testing.T) {
	shot := Ack{V: 1, ID: "20261127t100000-0123456789abcdef", Name: CmdScreenshot, Status: AckOK,
		ScreenshotPNG: make([]byte, MaxScreenshot)}
	b, _ := json.Marshal(shot)
	if len(b) > MaxAckPayload {
		t.Errorf("largest screenshot ack is %d bytes, over MaxAckPayload %d", len(b), MaxAckPayload)
	}
	temp := 51.5
	h := Health{V: 1, CPUTempC: &temp, Reader: Reader{Present: true, Name: Token(string(make([]byte, 0, 64)))},
		Sessions: Sessions{Started: MaxCount, Completed: MaxCount, Aborted: map[AbortReason]uint64{}}, Errors: map[ErrorKind]uint64{}}
	for r := range abortReasons {
		h.Sessions.Aborted[r] = MaxCount
	}
	for k := range errorKinds {
		h.Errors[k] = MaxCount
	}
	if b, _ := json.Marshal(h); len(b) > MaxHealthPayload {
		t.Errorf("largest health is %d bytes, over %d", len(b), MaxHealthPayload)
	}
	for _, ch := range []string{ChanState, ChanHealth, ChanEvent, ChanAck, ChanCmd} {
		if n := MaxPayload(ch); n <= 0 || n+256 > MaxPacket {
			t.Errorf("MaxPayload(%s) = %d does not fit MaxPacket %d", ch, n, MaxPacket)
		}
	}
}
