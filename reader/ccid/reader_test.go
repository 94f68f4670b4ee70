package ccid_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/ccid"
	"github.com/nhikiosk/nhikiosk/reader/ccid/ccidtest"
)

func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

var (
	selectNHI   = h("00 A4 04 00 10 D1 58 00 00 01 00 00 00 00 00 00 00 00 00 11 00")
	readProfile = h("00 CA 11 00 02 00 00")
)

// profile is a made-up 57-byte profile for TEST ONE, A123456789-style.
func profile() []byte {
	p := bytes.Repeat([]byte{0x20}, 57)
	copy(p, "000012345678TEST ONE")
	copy(p[32:], "A123456789")
	return append(p, 0x90, 0x00)
}

// nhiCard answers the two APDUs of an NHI card read.
func nhiCard(apdu []byte) []byte {
	switch {
	case bytes.Equal(apdu, selectNHI):
		return []byte{0x90, 0x00}
	case bytes.Equal(apdu, readProfile):
		return profile()
	}
	return []byte{0x6D, 0x00}
}

func open(t *testing.T, fake *ccidtest.Reader) *ccid.Reader {
	t.Helper()
	r := ccid.NewReader(fake, fake.Descriptor())
	r.ReadTimeout = time.Second
	return r
}

// readCard does what the NHI card protocol does over a transport.
func readCard(ctx context.Context, tr reader.Transport) ([]byte, error) {
	resp, err := tr.Transmit(ctx, selectNHI)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(resp, []byte{0x90, 0x00}) {
		return nil, errors.New("select failed")
	}
	return tr.Transmit(ctx, readProfile)
}

func TestReadCard(t *testing.T) {
	for _, tc := range []struct {
		name   string
		level  uint32
		faults ccidtest.Faults
	}{
		{"TPDU", ccid.LevelTPDU, ccidtest.Faults{}},
		{"APDU", ccid.LevelShortAPDU, ccidtest.Faults{}},
		{"TPDU broken block", ccid.LevelTPDU, ccidtest.Faults{CorruptBlocks: 2}},
		{"TPDU parity error", ccid.LevelTPDU, ccidtest.Faults{Parity: 1}},
		{"TPDU card slow once", ccid.LevelTPDU, ccidtest.Faults{Mute: 1}},
		{"TPDU time extension", ccid.LevelTPDU, ccidtest.Faults{TimeExt: 2}},
		{"TPDU WTX", ccid.LevelTPDU, ccidtest.Faults{WTX: 4}},
		{"stale answer", ccid.LevelTPDU, ccidtest.Faults{Stale: true}},
		{"APDU time extension", ccid.LevelShortAPDU, ccidtest.Faults{TimeExt: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := ccidtest.New(tc.level)
			fake.Insert(nhiCard)
			r := open(t, fake)
			ctx := context.Background()
			if err := r.PowerOn(ctx); err != nil {
				t.Fatalf("PowerOn: %v", err)
			}
			if got := r.ATR(); !bytes.Equal(got, ccidtest.NHIATR) {
				t.Errorf("ATR = % X, want % X", got, ccidtest.NHIATR)
			}
			fake.Faults = tc.faults
			got, err := readCard(ctx, r)
			if err != nil {
				t.Fatalf("read card: %v\nwire:\n%s", err, strings.Join(fake.Log(), "\n"))
			}
			if !bytes.Equal(got, profile()) {
				t.Errorf("profile = % X, want % X", got, profile())
			}
		})
	}
}

func TestPowerOnTPDUSetsUpT1(t *testing.T) {
	fake := ccidtest.New(ccid.LevelTPDU)
	fake.Insert(nhiCard)
	r := open(t, fake)
	if err := r.PowerOn(context.Background()); err != nil {
		t.Fatal(err)
	}
	// IccPowerOn; SetParameters T=1 from the ATR (TA1 18, BWI/CWI 45, IFSC
	// FE); XfrBlock S(IFS request 254).
	want := []string{
		"0x62 ",
		"0x61 18 10 00 45 00 FE 00",
		"0x6f 00 C1 01 FE 3E",
	}
	if got := fake.Log(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("wire = %q, want %q", got, want)
	}
}

func TestReadCardErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		level  uint32
		faults ccidtest.Faults
		unplug bool
		want   error
	}{
		{"card removed mid-block", ccid.LevelTPDU, ccidtest.Faults{RemoveAfter: 1}, false, reader.ErrCardRemoved},
		{"card removed APDU", ccid.LevelShortAPDU, ccidtest.Faults{RemoveAfter: 1}, false, reader.ErrCardRemoved},
		{"card mute", ccid.LevelTPDU, ccidtest.Faults{Mute: 100}, false, reader.ErrCardMute},
		{"garbled line", ccid.LevelTPDU, ccidtest.Faults{CorruptBlocks: 100}, false, reader.ErrCardMute},
		{"reader unplugged", ccid.LevelTPDU, ccidtest.Faults{}, true, reader.ErrReaderUnplugged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := ccidtest.New(tc.level)
			fake.Insert(nhiCard)
			r := open(t, fake)
			ctx := context.Background()
			if err := r.PowerOn(ctx); err != nil {
				t.Fatalf("PowerOn: %v", err)
			}
			fake.Faults = tc.faults
			if tc.unplug {
				fake.Unplug()
			}
			got, err := readCard(ctx, r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("read card = % X, %v; want %v", got, err, tc.want)
			}
			if got != nil {
				t.Errorf("read card returned data with error: % X", got)
			}
		})
	}
}

func TestPowerOnWithoutCard(t *testing.T) {
	fake := ccidtest.New(ccid.LevelTPDU)
	r := open(t, fake)
	if err := r.PowerOn(context.Background()); !errors.Is(err, reader.ErrNoCard) {
		t.Fatalf("PowerOn without card = %v, want ErrNoCard", err)
	}
	if _, err := r.Transmit(context.Background(), selectNHI); !errors.Is(err, reader.ErrNoCard) {
		t.Fatalf("Transmit without card = %v, want ErrNoCard", err)
	}
}

func TestWaitCardChange(t *testing.T) {
	fake := ccidtest.New(ccid.LevelTPDU)
	r := open(t, fake)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fake.Insert(nhiCard)
	if present, err := r.WaitCardChange(ctx, false); err != nil || !present {
		t.Fatalf("after Insert: WaitCardChange = %t, %v; want true", present, err)
	}
	if present, err := r.CardPresent(ctx); err != nil || !present {
		t.Fatalf("CardPresent = %t, %v; want true", present, err)
	}
	fake.Remove()
	if present, err := r.WaitCardChange(ctx, true); err != nil || present {
		t.Fatalf("after Remove: WaitCardChange = %t, %v; want false", present, err)
	}
}

// BenchmarkReadCard measures SELECT + READ PROFILE through the CCID and
// T=1 layers against the fake reader (the protocol's own cost, no USB).
func BenchmarkReadCard(b *testing.B) {
	fake := ccidtest.New(ccid.LevelTPDU)
	fake.Insert(nhiCard)
	r := ccid.NewReader(fake, fake.Descriptor())
	ctx := context.Background()
	if err := r.PowerOn(ctx); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := readCard(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
