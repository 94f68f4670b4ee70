package ccid_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/ccid"
)

// replay is a ccid.USB that plays back a recorded conversation: each
// bulk-out transfer must equal the next recorded one, and bulk-in returns
// what the reader answered then.
type replay struct {
	t    *testing.T
	out  [][]byte // recorded bulk-out, in order
	in   [][]byte // recorded bulk-in, in order
	intr [][]byte // recorded interrupt-in
}

func loadReplay(t *testing.T, path string) *replay {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &replay{t: t}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		b := h(line[2:])
		switch line[0] {
		case '>':
			r.out = append(r.out, b)
		case '<':
			r.in = append(r.in, b)
		case '!':
			r.intr = append(r.intr, b)
		}
	}
	return r
}

func (r *replay) Write(_ context.Context, p []byte) error {
	r.t.Helper()
	if len(r.out) == 0 {
		return fmt.Errorf("replay: unrecorded bulk out % X", p)
	}
	want := r.out[0]
	r.out = r.out[1:]
	if !bytes.Equal(p, want) {
		r.t.Errorf("bulk out\n got % X\nwant % X", p, want)
	}
	return nil
}

func (r *replay) Read(_ context.Context, p []byte) (int, error) {
	if len(r.in) == 0 {
		return 0, fmt.Errorf("replay: no more recorded bulk in")
	}
	n := copy(p, r.in[0])
	r.in = r.in[1:]
	return n, nil
}

func (r *replay) Interrupt(context.Context, []byte) (int, error) {
	return 0, fmt.Errorf("replay: interrupts are checked separately")
}

func (r *replay) Close() error { return nil }

// TestRecordedQEMU replays the conversation recorded from QEMU's usb-ccid
// in the VM test: the same calls must produce the same bytes on the wire
// and the same card data.
func TestRecordedQEMU(t *testing.T) {
	raw, err := os.ReadFile("testdata/qemu-usb-ccid.descriptors")
	if err != nil {
		t.Fatal(err)
	}
	desc, err := ccid.ParseDescriptors(raw)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Level() != ccid.LevelTPDU || !desc.AutoParams() || !desc.AutoIFSD() || desc.Interrupt != 0x81 {
		t.Errorf("QEMU's descriptor = %+v", desc)
	}
	rec := loadReplay(t, "testdata/qemu-usb-ccid.txt")
	r := ccid.NewReader(rec, desc)
	ctx := context.Background()

	if present, err := r.CardPresent(ctx); err != nil || present {
		t.Fatalf("CardPresent before insertion = %t, %v", present, err)
	}
	if c, err := ccid.ParseInterrupt(rec.intr[0], 1); err != nil || !c[0].Present || !c[0].Changed {
		t.Errorf("insertion interrupt = %+v, %v", c, err)
	}
	if err := r.PowerOn(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := readCard(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 59 || !bytes.HasSuffix(got, []byte{0x90, 0x00}) || !strings.Contains(string(got), "TEST ONE") {
		t.Errorf("profile = % X", got)
	}
	if c, err := ccid.ParseInterrupt(rec.intr[1], 1); err != nil || c[0].Present || !c[0].Changed {
		t.Errorf("removal interrupt = %+v, %v", c, err)
	}
	if len(rec.out) != 0 || len(rec.in) != 0 {
		t.Errorf("%d bulk out and %d bulk in transfers of the recording not replayed", len(rec.out), len(rec.in))
	}
}

// TestRecordedQEMUCardPulled replays QEMU pulling the card out while
// READ PROFILE waits for its answer (recorded by TestVMKiosk): its
// empty, successful DataBlock says "no ICC" in bmICCStatus, and the read
// must fail as a removal, not as a mute card (issue 18).
func TestRecordedQEMUCardPulled(t *testing.T) {
	raw, err := os.ReadFile("testdata/qemu-usb-ccid.descriptors")
	if err != nil {
		t.Fatal(err)
	}
	desc, err := ccid.ParseDescriptors(raw)
	if err != nil {
		t.Fatal(err)
	}
	rec := loadReplay(t, "testdata/qemu-usb-ccid-pulled.txt")
	r := ccid.NewReader(rec, desc)
	ctx := context.Background()
	if present, err := r.CardPresent(ctx); err != nil || present {
		t.Fatalf("CardPresent before insertion = %t, %v", present, err)
	}
	if err := r.PowerOn(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := readCard(ctx, r); err != nil {
		t.Fatalf("the first read: %v", err)
	}
	if err := r.PowerOn(ctx); err != nil { // the card out and in again
		t.Fatal(err)
	}
	_, err = readCard(ctx, r)
	if !errors.Is(err, reader.ErrCardRemoved) || errors.Is(err, reader.ErrCardMute) {
		t.Errorf("read with the card pulled out = %v, want reader.ErrCardRemoved", err)
	}
	if _, err := r.Transmit(ctx, []byte{0x00, 0xCA, 0x11, 0x00, 0x02}); !errors.Is(err, reader.ErrNoCard) {
		t.Errorf("Transmit after the removal = %v, want reader.ErrNoCard without a word to the reader", err)
	}
	for i, want := range []bool{true, false, true, false} { // in, out, in, out
		c, err := ccid.ParseInterrupt(rec.intr[i], 1)
		if err != nil || c[0].Present != want || !c[0].Changed {
			t.Errorf("interrupt %d = %+v, %v, want present %t", i, c, err, want)
		}
	}
	if len(rec.out) != 0 || len(rec.in) != 0 {
		t.Errorf("%d bulk out and %d bulk in transfers of the recording not replayed", len(rec.out), len(rec.in))
	}
}
