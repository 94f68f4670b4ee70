// Package cardslot puts virtual NHI cards (reader/readertest) into each of
// the kiosk's reader backends, for end-to-end tests that must hold on all
// of them: the in-process virtual reader, pcscd with vsmartcard's vpcd
// (reader/pcsc, the real PC/SC stack), and the CCID backend over the fake
// USB reader (reader/ccid with reader/ccid/ccidtest). It is for tests only.
package cardslot

import (
	"context"
	"sync"
	"testing"

	"github.com/nhikiosk/nhikiosk/internal/itest"
	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/ccid"
	"github.com/nhikiosk/nhikiosk/reader/ccid/ccidtest"
	"github.com/nhikiosk/nhikiosk/reader/pcsc"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
)

// Backends a Slot can be.
const (
	Virtual = "virtual" // readertest.Device, in process
	PCSC    = "pcsc"    // pcscd + vpcd, through reader/pcsc
	CCID    = "ccid"    // reader/ccid over ccidtest's fake reader (T=1, TPDU level)
)

// All lists the backends.
var All = []string{Virtual, PCSC, CCID}

// Slot is one reader of a backend, its Device not yet running: the test
// runs it (Device.Run, or devices.WatchCards) and waits for its events.
type Slot struct {
	Backend string
	Device  reader.Device

	virtual *readertest.Device
	addr    string // vpcd
	fake    *ccidtest.Reader

	mu       sync.Mutex
	inserted *readertest.Inserted
}

// Open returns a slot of backend. PCSC needs pcscd and vpcd (skipped, or
// failed in CI, without them) and holds vpcd's second reader ("Virtual
// PCD 00 01") for the test (readertest.LockVPCD).
func Open(t testing.TB, backend string) *Slot {
	t.Helper()
	s := &Slot{Backend: backend}
	switch backend {
	case Virtual:
		s.virtual = readertest.NewDevice("Virtual NHI reader")
		s.Device = s.virtual
	case PCSC:
		if !pcsc.Built {
			itest.Missing(t, "this build has no PC/SC (cgo and libpcsclite-dev)")
		}
		base := itest.Env(t, "NHIKIOSK_VPCD_ADDR", "pcscd with vsmartcard-vpcd")
		addr, err := readertest.WithPort(base, 35964)
		if err != nil {
			t.Fatal(err)
		}
		unlock, err := readertest.LockVPCD(addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(unlock)
		name, err := readertest.VPCDReader(addr)
		if err != nil {
			t.Fatal(err)
		}
		dev, err := pcsc.New(pcsc.Options{Reader: name})
		if err != nil {
			t.Fatal(err)
		}
		s.addr, s.Device = addr, dev
	case CCID:
		s.fake = ccidtest.New(ccid.LevelTPDU)
		dev, err := ccidtest.NewDevice(t.TempDir(), s.fake)
		if err != nil {
			t.Fatal(err)
		}
		s.Device = dev
	default:
		t.Fatalf("cardslot: no backend %q", backend)
	}
	t.Cleanup(s.Remove)
	return s
}

// Insert puts card into the slot (taking out any card there). The Device
// reports it as its events say; Insert does not wait for them.
func (s *Slot) Insert(t testing.TB, card *readertest.Card) {
	t.Helper()
	switch s.Backend {
	case Virtual:
		if err := s.virtual.Insert(card); err != nil {
			t.Fatal(err)
		}
	case PCSC:
		s.Remove()
		in, err := readertest.Insert(context.Background(), s.addr, card)
		if err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		s.inserted = in
		s.mu.Unlock()
	case CCID:
		s.fake.Remove()
		s.fake.SetFaults(ccidtest.Faults{PullOn: card.PullOn, MuteOn: card.MuteOn})
		s.fake.Insert(func(apdu []byte) []byte {
			resp, _ := card.Respond(apdu) // pulled and mute are the fake reader's (Faults)
			return resp
		})
	}
}

// Remove takes the card out, if one is in.
func (s *Slot) Remove() {
	switch s.Backend {
	case Virtual:
		s.virtual.Remove()
	case PCSC:
		s.mu.Lock()
		in := s.inserted
		s.inserted = nil
		s.mu.Unlock()
		if in != nil {
			in.Remove()
		}
	case CCID:
		s.fake.Remove()
	}
}
