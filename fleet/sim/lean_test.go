package sim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/broker"
)

// TestLeanKiosksSpeakTheProtocol: lean kiosks pass the embedded broker's
// checks (credentials, bound client id, clean session, Last Will on their
// own state) and publish a valid retained birth and valid health.
func TestLeanKiosksSpeakTheProtocol(t *testing.T) {
	b, err := broker.Start(broker.Config{Addr: "127.0.0.1:0", Operators: map[string]string{"fleetd": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var (
		mu     sync.Mutex
		births = map[string]fleet.State{}
		health = map[string]int{}
	)
	b.Subscribe(fleet.AllTopics, func(topic string, p []byte) {
		ref, ch, err := fleet.ParseTopic(topic)
		if err != nil {
			t.Errorf("topic %q: %v", topic, err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		switch ch {
		case fleet.ChanState:
			var s fleet.State
			if err := json.Unmarshal(p, &s); err != nil || s.Validate() != nil {
				t.Errorf("state %s: %v %v", p, err, s.Validate())
			}
			if s.Birth != nil {
				births[ref.String()] = s
			}
		case fleet.ChanHealth:
			var h fleet.Health
			if err := json.Unmarshal(p, &h); err != nil || h.Validate() != nil {
				t.Errorf("health %s: %v %v", p, err, h.Validate())
			}
			health[ref.String()]++
		}
	})
	o := LeanOptions{HealthInterval: 200 * time.Millisecond, Ramp: 30 * time.Millisecond}
	for i := range 3 {
		ref := Ref(i, 2)
		pw := "lean-test-password-" + ref.Kiosk
		b.SetKiosk(context.Background(), ref, pw)
		o.Kiosks = append(o.Kiosks, LeanKiosk{Ref: ref, BrokerURL: "mqtt://" + b.Addr(), Password: pw})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var st LeanStats
	done := make(chan error, 1)
	go func() { done <- RunLean(ctx, o, &st) }()
	for ctx.Err() == nil {
		mu.Lock()
		n := 0
		for _, k := range o.Kiosks {
			if health[k.Ref.String()] >= 3 && births[k.Ref.String()].Birth != nil {
				n++
			}
		}
		mu.Unlock()
		if n == len(o.Kiosks) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, k := range o.Kiosks {
		s := births[k.Ref.String()]
		if s.State != fleet.Online || s.Birth == nil || s.Birth.HealthIntervalS != 1 || health[k.Ref.String()] < 3 {
			t.Errorf("%s: birth %+v, %d health", k.Ref, s, health[k.Ref.String()])
		}
	}
	if st.Refused.Load() != 0 {
		t.Errorf("%d connections refused", st.Refused.Load())
	}
}

// FuzzReadLength: the remaining-length decoder never reads more than four
// bytes nor returns a negative length, whatever the broker sends.
func FuzzReadLength(f *testing.F) {
	f.Add([]byte{0x00})
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f})
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		n, err := readLength(r)
		if err == nil && (n < 0 || n > 268435455) {
			t.Errorf("readLength(%x) = %d", b, n)
		}
		if used := len(b) - r.Buffered(); used > 4 {
			t.Errorf("readLength(%x) read %d bytes", b, used)
		}
	})
}
