package broker

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/nhikiosk/nhikiosk/fleet"
)

func TestKioskMayAccess(t *testing.T) {
	k := fleet.KioskRef{Site: "taipei-branch", Kiosk: "k1"}
	other := fleet.KioskRef{Site: "taipei-branch", Kiosk: "k2"}
	tests := []struct {
		topic string
		write bool
		want  bool
	}{
		{fleet.Topic(k, fleet.ChanState), true, true},
		{fleet.Topic(k, fleet.ChanHealth), true, true},
		{fleet.Topic(k, fleet.ChanEvent), true, true},
		{fleet.Topic(k, fleet.ChanAck), true, true},
		{fleet.Topic(k, fleet.ChanCmd), true, false},
		{fleet.Topic(k, fleet.ChanCmd), false, true},
		{fleet.Topic(k, fleet.ChanState), false, false},
		{fleet.Topic(other, fleet.ChanState), true, false},
		{fleet.Topic(other, fleet.ChanCmd), false, false},
		{"nhikiosk/v1/taipei-branch/+/cmd", false, false},
		{"nhikiosk/v1/#", false, false},
		{"$SYS/broker/clients", false, false},
	}
	for _, tt := range tests {
		if got := KioskMayAccess(k, tt.topic, tt.write); got != tt.want {
			t.Errorf("KioskMayAccess(%s, %q, write=%v) = %v, want %v", k, tt.topic, tt.write, got, tt.want)
		}
	}
}

func TestBucket(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	b := bucket{rate: 10, burst: 20, tokens: 20, last: t0}
	for i := range 20 {
		if d := b.take(t0, 1); d != 0 {
			t.Fatalf("take %d within the burst waits %v", i+1, d)
		}
	}
	if d := b.take(t0, 1); d != 100*time.Millisecond {
		t.Errorf("first take past the burst waits %v, want 100ms", d)
	}
	if d := b.take(t0.Add(time.Second), 1); d != 0 {
		t.Errorf("after a second the bucket still makes it wait %v", d)
	}
}

// TestPacketSummary: a packet in a log line is its type, topic and size,
// never its payload or a password.
func TestPacketSummary(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(packetSummary{slog.NewTextHandler(&buf, nil)})
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "nhikiosk/v1/s/k/health",
		Payload: bytes.Repeat([]byte("p"), 2<<20)}
	pk.Connect.Password = []byte("secret-password")
	log.Warn("error processing packet", "pk", pk, "ptr", &pk)
	line := buf.String()
	if len(line) > 512 || strings.Contains(line, "ppp") || strings.Contains(line, "secret-password") {
		t.Errorf("log line of %d bytes: %.300s", len(line), line)
	}
	if !strings.Contains(line, "payload=2097152 bytes") || !strings.Contains(line, `topic=\"nhikiosk/v1/s/k/health\"`) {
		t.Errorf("log line lacks the summary: %s", line)
	}
}
