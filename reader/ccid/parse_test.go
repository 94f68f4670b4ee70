package ccid_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/nhikiosk/nhikiosk/reader/ccid"
	"github.com/nhikiosk/nhikiosk/reader/ccid/ccidtest"
)

func rawDescriptors(features uint32) []byte { return ccidtest.Descriptors(features) }

func TestParseDescriptors(t *testing.T) {
	d, err := ccid.ParseDescriptors(rawDescriptors(0x000100BA))
	if err != nil {
		t.Fatal(err)
	}
	want := ccid.Descriptor{Interface: 1, BulkIn: 0x81, BulkOut: 0x02, Interrupt: 0x83, Protocols: 3, MaxIFSD: 254, Features: 0x000100BA, MaxMessageLen: 271}
	if d != want {
		t.Errorf("ccid.ParseDescriptors = %+v, want %+v", d, want)
	}
	if d.Level() != ccid.LevelTPDU || !d.AutoParams() || d.AutoIFSD() {
		t.Errorf("level %#x auto params %t auto IFSD %t", d.Level(), d.AutoParams(), d.AutoIFSD())
	}
	noCCID := rawDescriptors(0)[:18+9+9]
	if _, err := ccid.ParseDescriptors(noCCID); !errors.Is(err, ccid.ErrNotCCID) {
		t.Errorf("descriptors without CCID: %v, want ccid.ErrNotCCID", err)
	}
	if _, err := ccid.ParseDescriptors(rawDescriptors(0x000000BA)); !errors.Is(err, ccid.ErrNotCCID) {
		t.Errorf("character-level reader: %v, want ErrNotCCID", err)
	}
	if _, err := ccid.ParseDescriptors(h("12 01 00")); !errors.Is(err, ccid.ErrNotCCID) {
		t.Errorf("truncated descriptors: %v, want ccid.ErrNotCCID", err)
	}
}

func TestParseATR(t *testing.T) {
	nhi := h("3B FA 18 00 00 81 31 FE 45 50 56 4A 43 4F 50 34 53 49 44 93")
	a, err := ccid.ParseATR(nhi)
	if err != nil {
		t.Fatal(err)
	}
	if !a.T1 || a.T0 || a.IFSC != 254 || a.BWICWI != 0x45 || a.TA1 != 0x18 || a.CRC || a.Inverse {
		t.Errorf("ccid.ParseATR(NHI) = %+v", a)
	}
	for _, bad := range []string{
		"3B FA 18 00 00 81 31 FE 45 50 56 4A 43 4F 50 34 53 49 44 94", // TCK
		"3B FA 18 00 00 81 31 FE 45 50 56",                            // short
		"3C 00",                                                       // TS
		"3B",
	} {
		if _, err := ccid.ParseATR(h(bad)); !errors.Is(err, ccid.ErrATR) {
			t.Errorf("ccid.ParseATR(%s) = %v, want ccid.ErrATR", bad, err)
		}
	}
	t0, err := ccid.ParseATR(h("3B 02 14 50")) // T=0 only, no TCK
	if err != nil || !t0.T0 || t0.T1 {
		t.Errorf("ccid.ParseATR(T=0 card) = %+v, %v", t0, err)
	}
}

func TestParseMessage(t *testing.T) {
	m, err := ccid.ParseMessage(h("80 02 00 00 00 00 07 00 00 00 90 00"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != ccid.RDRtoPCDataBlock || m.Seq != 7 || !bytes.Equal(m.Data, h("90 00")) || m.ICCStatus() != ccid.ICCActive {
		t.Errorf("ccid.ParseMessage = %+v", m)
	}
	m, err = ccid.ParseMessage(h("81 00 00 00 00 00 08 42 FE 00"))
	if err != nil || m.ICCStatus() != ccid.ICCAbsent || m.CommandStatus() != 1 || m.Error() != ccid.ErrCodeICCMute {
		t.Errorf("slot status = %+v, %v", m, err)
	}
	for _, bad := range []string{"80 05 00 00 00 00 07 00 00 00 90 00", "80 00 00", "62 00 00 00 00 00 01 00 00 00"} {
		if _, err := ccid.ParseMessage(h(bad)); !errors.Is(err, ccid.ErrMessage) {
			t.Errorf("ccid.ParseMessage(%s) = %v, want ccid.ErrMessage", bad, err)
		}
	}
	enc := ccid.Message{Type: ccid.PCtoRDRXfrBlock, Seq: 3, Param: [3]byte{2}, Data: h("00 00 00 00")}.Encode()
	if want := h("6F 04 00 00 00 00 03 02 00 00 00 00 00 00"); !bytes.Equal(enc, want) {
		t.Errorf("Encode = % X, want % X", enc, want)
	}
}

func TestParseInterrupt(t *testing.T) {
	c, err := ccid.ParseInterrupt(h("50 03"), 1)
	if err != nil || len(c) != 1 || !c[0].Present || !c[0].Changed {
		t.Errorf("insert = %+v, %v", c, err)
	}
	c, err = ccid.ParseInterrupt(h("50 02"), 1)
	if err != nil || c[0].Present || !c[0].Changed {
		t.Errorf("remove = %+v, %v", c, err)
	}
	if _, err := ccid.ParseInterrupt(h("51 00 01 FB"), 1); err == nil {
		t.Error("hardware error not reported")
	}
	if _, err := ccid.ParseInterrupt(h("50"), 1); !errors.Is(err, ccid.ErrMessage) {
		t.Errorf("short NotifySlotChange: %v", err)
	}
}

func FuzzParseMessage(f *testing.F) {
	f.Add(h("80 02 00 00 00 00 07 00 00 00 90 00"))
	f.Add(h("81 00 00 00 00 00 08 42 FE 00"))
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := ccid.ParseMessage(p)
		if err != nil {
			return
		}
		if got := m.Encode(); !bytes.Equal(got, p) {
			t.Fatalf("Encode(ccid.ParseMessage(% X)) = % X", p, got)
		}
	})
}

func FuzzParseInterrupt(f *testing.F) {
	f.Add(h("50 03"), 1)
	f.Add(h("51 00 01 FB"), 1)
	f.Fuzz(func(t *testing.T, p []byte, slots int) {
		if slots < 1 || slots > 256 {
			return
		}
		c, err := ccid.ParseInterrupt(p, slots)
		if err == nil && len(c) != slots {
			t.Fatalf("%d changes for %d slots", len(c), slots)
		}
	})
}

func FuzzParseDescriptors(f *testing.F) {
	f.Add(rawDescriptors(0x000100BA))
	f.Add(rawDescriptors(0x00040000))
	if raw, err := os.ReadFile("testdata/qemu-usb-ccid.descriptors"); err == nil {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		d, err := ccid.ParseDescriptors(p)
		if err == nil && (d.BulkIn == 0 || d.BulkOut == 0) {
			t.Fatalf("accepted descriptors without bulk endpoints: %+v", d)
		}
	})
}

func FuzzParseATR(f *testing.F) {
	f.Add(h("3B FA 18 00 00 81 31 FE 45 50 56 4A 43 4F 50 34 53 49 44 93"))
	f.Add(h("3B 02 14 50"))
	f.Fuzz(func(t *testing.T, p []byte) {
		a, err := ccid.ParseATR(p)
		if err == nil && (a.IFSC < 1 || a.IFSC > 254) {
			t.Fatalf("IFSC %d from % X", a.IFSC, p)
		}
	})
}
