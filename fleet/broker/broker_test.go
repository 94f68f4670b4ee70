package broker

import (
	"testing"

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

func TestKioskPasswordIsPerKiosk(t *testing.T) {
	s := []byte("0123456789abcdef0123")
	a := KioskPassword(s, fleet.KioskRef{Site: "a", Kiosk: "k1"})
	b := KioskPassword(s, fleet.KioskRef{Site: "a", Kiosk: "k2"})
	c := KioskPassword([]byte("another-secret-0123"), fleet.KioskRef{Site: "a", Kiosk: "k1"})
	if a == b || a == c || len(a) != 64 {
		t.Errorf("passwords not distinct per kiosk and secret: %s %s %s", a, b, c)
	}
}
