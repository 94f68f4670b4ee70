package ccid

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func hx(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// rawDescriptors builds the sysfs "descriptors" file of a one-slot TPDU
// reader: device, configuration, a HID interface first, then the CCID
// interface with its class descriptor and three endpoints.
func rawDescriptors(features uint32) []byte {
	dev := hx("12 01 00 02 00 00 00 40 6B 07 00 35 00 01 01 02 00 01")
	cfg := hx("09 02 5D 00 02 01 00 80 32")
	hid := hx("09 04 00 00 00 03 00 00 00")
	itf := hx("09 04 01 00 03 0B 00 00 00")
	class := make([]byte, 54)
	class[0], class[1] = 54, 0x21
	class[4] = 0                                   // bMaxSlotIndex
	binary.LittleEndian.PutUint32(class[6:], 3)    // T=0 and T=1
	binary.LittleEndian.PutUint32(class[28:], 254) // dwMaxIFSD
	binary.LittleEndian.PutUint32(class[40:], features)
	binary.LittleEndian.PutUint32(class[44:], 271) // dwMaxCCIDMessageLength
	eps := hx("07 05 02 02 40 00 00  07 05 81 02 40 00 00  07 05 83 03 08 00 10")
	return bytes.Join([][]byte{dev, cfg, hid, itf, class, eps}, nil)
}

func TestParseDescriptors(t *testing.T) {
	d, err := ParseDescriptors(rawDescriptors(0x000100BA))
	if err != nil {
		t.Fatal(err)
	}
	want := Descriptor{Interface: 1, BulkIn: 0x81, BulkOut: 0x02, Interrupt: 0x83, Protocols: 3, MaxIFSD: 254, Features: 0x000100BA, MaxMessageLen: 271}
	if d != want {
		t.Errorf("ParseDescriptors = %+v, want %+v", d, want)
	}
	if d.Level() != LevelTPDU || !d.AutoParams() || d.AutoIFSD() {
		t.Errorf("level %#x auto params %t auto IFSD %t", d.Level(), d.AutoParams(), d.AutoIFSD())
	}
	noCCID := rawDescriptors(0)[:18+9+9]
	if _, err := ParseDescriptors(noCCID); !errors.Is(err, ErrNotCCID) {
		t.Errorf("descriptors without CCID: %v, want ErrNotCCID", err)
	}
	if _, err := ParseDescriptors(hx("12 01 00")); !errors.Is(err, ErrNotCCID) {
		t.Errorf("truncated descriptors: %v, want ErrNotCCID", err)
	}
}

func TestParseATR(t *testing.T) {
	nhi := hx("3B FA 18 00 00 81 31 FE 45 50 56 4A 43 4F 50 34 53 49 44 93")
	a, err := ParseATR(nhi)
	if err != nil {
		t.Fatal(err)
	}
	if !a.T1 || a.T0 || a.IFSC != 254 || a.BWICWI != 0x45 || a.TA1 != 0x18 || a.CRC || a.Inverse {
		t.Errorf("ParseATR(NHI) = %+v", a)
	}
	if got, want := a.t1Params(), hx("18 10 00 45 00 FE 00"); !bytes.Equal(got, want) {
		t.Errorf("T=1 parameters = % X, want % X", got, want)
	}
	for _, bad := range []string{
		"3B FA 18 00 00 81 31 FE 45 50 56 4A 43 4F 50 34 53 49 44 94", // TCK
		"3B FA 18 00 00 81 31 FE 45 50 56",                            // short
		"3C 00",                                                       // TS
		"3B",
	} {
		if _, err := ParseATR(hx(bad)); !errors.Is(err, ErrATR) {
			t.Errorf("ParseATR(%s) = %v, want ErrATR", bad, err)
		}
	}
	t0, err := ParseATR(hx("3B 02 14 50")) // T=0 only, no TCK
	if err != nil || !t0.T0 || t0.T1 {
		t.Errorf("ParseATR(T=0 card) = %+v, %v", t0, err)
	}
}

func TestParseMessage(t *testing.T) {
	m, err := ParseMessage(hx("80 02 00 00 00 00 07 00 00 00 90 00"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != RDRtoPCDataBlock || m.Seq != 7 || !bytes.Equal(m.Data, hx("90 00")) || m.ICCStatus() != ICCActive {
		t.Errorf("ParseMessage = %+v", m)
	}
	m, err = ParseMessage(hx("81 00 00 00 00 00 08 42 FE 00"))
	if err != nil || m.ICCStatus() != ICCAbsent || m.CommandStatus() != cmdFailed || m.Error() != ErrCodeICCMute {
		t.Errorf("slot status = %+v, %v", m, err)
	}
	for _, bad := range []string{"80 05 00 00 00 00 07 00 00 00 90 00", "80 00 00", "62 00 00 00 00 00 01 00 00 00"} {
		if _, err := ParseMessage(hx(bad)); !errors.Is(err, ErrMessage) {
			t.Errorf("ParseMessage(%s) = %v, want ErrMessage", bad, err)
		}
	}
	enc := Message{Type: PCtoRDRXfrBlock, Seq: 3, Param: [3]byte{2}, Data: hx("00 00 00 00")}.Encode()
	if want := hx("6F 04 00 00 00 00 03 02 00 00 00 00 00 00"); !bytes.Equal(enc, want) {
		t.Errorf("Encode = % X, want % X", enc, want)
	}
}

func TestParseInterrupt(t *testing.T) {
	c, err := ParseInterrupt(hx("50 03"), 1)
	if err != nil || len(c) != 1 || !c[0].Present || !c[0].Changed {
		t.Errorf("insert = %+v, %v", c, err)
	}
	c, err = ParseInterrupt(hx("50 02"), 1)
	if err != nil || c[0].Present || !c[0].Changed {
		t.Errorf("remove = %+v, %v", c, err)
	}
	if _, err := ParseInterrupt(hx("51 00 01 FB"), 1); err == nil {
		t.Error("hardware error not reported")
	}
	if _, err := ParseInterrupt(hx("50"), 1); !errors.Is(err, ErrMessage) {
		t.Errorf("short NotifySlotChange: %v", err)
	}
}

func FuzzParseMessage(f *testing.F) {
	f.Add(hx("80 02 00 00 00 00 07 00 00 00 90 00"))
	f.Add(hx("81 00 00 00 00 00 08 42 FE 00"))
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := ParseMessage(p)
		if err != nil {
			return
		}
		if got := m.Encode(); !bytes.Equal(got, p) {
			t.Fatalf("Encode(ParseMessage(% X)) = % X", p, got)
		}
	})
}

func FuzzParseInterrupt(f *testing.F) {
	f.Add(hx("50 03"), 1)
	f.Add(hx("51 00 01 FB"), 1)
	f.Fuzz(func(t *testing.T, p []byte, slots int) {
		if slots < 1 || slots > 256 {
			return
		}
		c, err := ParseInterrupt(p, slots)
		if err == nil && len(c) != slots {
			t.Fatalf("%d changes for %d slots", len(c), slots)
		}
	})
}

func FuzzParseDescriptors(f *testing.F) {
	f.Add(rawDescriptors(0x000100BA))
	f.Add(rawDescriptors(0x00040000))
	f.Fuzz(func(t *testing.T, p []byte) {
		d, err := ParseDescriptors(p)
		if err == nil && (d.BulkIn == 0 || d.BulkOut == 0) {
			t.Fatalf("accepted descriptors without bulk endpoints: %+v", d)
		}
	})
}

func FuzzParseATR(f *testing.F) {
	f.Add(hx("3B FA 18 00 00 81 31 FE 45 50 56 4A 43 4F 50 34 53 49 44 93"))
	f.Add(hx("3B 02 14 50"))
	f.Fuzz(func(t *testing.T, p []byte) {
		a, err := ParseATR(p)
		if err == nil && (a.IFSC < 1 || a.IFSC > 254) {
			t.Fatalf("IFSC %d from % X", a.IFSC, p)
		}
	})
}
