//go:build cgo && !nopcsc

package pcsc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/internal/itest"
	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/pcsc"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
)

// rig is pcscd with one vpcd reader, locked for this test, and a Device
// watching only that reader.
type rig struct {
	t      testing.TB
	addr   string // vpcd's card port
	name   string // the reader's PC/SC name
	dev    *pcsc.Device
	ctx    context.Context
	runErr chan error
	// present says a card is in as far as the events told; cleanup waits
	// for pcscd to see it leave, since vpcd only notices a card gone at
	// its next poll and a card plugged in before that is taken for the
	// old one.
	present bool
}

func newRig(t testing.TB) *rig {
	t.Helper()
	addr := itest.Env(t, "NHIKIOSK_VPCD_ADDR", "pcscd with vsmartcard-vpcd")
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
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{t: t, addr: addr, name: name, dev: dev, ctx: ctx, runErr: make(chan error, 1)}
	go func() { r.runErr <- dev.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-r.runErr:
			if err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return within 5s of cancel")
		}
	})
	r.expect(reader.ReaderAttached)
	r.settle()
	return r
}

// settle waits out a card another test left behind that pcscd has not
// yet seen leave.
func (r *rig) settle() {
	r.t.Helper()
	select {
	case ev := <-r.dev.Events():
		if ev.Kind != reader.CardInserted {
			r.t.Fatalf("event %v, want none or a stale card", ev)
		}
		r.expect(reader.CardRemoved)
	case <-time.After(200 * time.Millisecond):
	}
}

// expect waits for the next event and checks its kind and reader.
func (r *rig) expect(kind reader.EventKind) reader.Event {
	r.t.Helper()
	select {
	case ev := <-r.dev.Events():
		if ev.Kind != kind || ev.Reader != r.name {
			r.t.Fatalf("event %v, want %v on %s", ev, kind, r.name)
		}
		r.present = ev.Kind == reader.CardInserted
		return ev
	case <-time.After(5 * time.Second):
		r.t.Fatalf("no %v event within 5s", kind)
	}
	return reader.Event{}
}

// insert plugs card into vpcd and waits for pcscd to report it.
func (r *rig) insert(card *readertest.Card) (*readertest.Inserted, reader.Event) {
	r.t.Helper()
	in, err := readertest.Insert(r.ctx, r.addr, card)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() {
		in.Remove()
		if r.present {
			r.expect(reader.CardRemoved)
		}
	})
	return in, r.expect(reader.CardInserted)
}

func (r *rig) remove(in *readertest.Inserted) {
	r.t.Helper()
	in.Remove()
	r.expect(reader.CardRemoved)
}

func card(t testing.TB, p readertest.Person) *readertest.Card {
	t.Helper()
	c, err := readertest.NewCard(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func describe(p reader.Profile) string {
	return fmt.Sprintf("{%q %q %q %s %c %s}", p.CardNumber, p.Name, p.IDNumber,
		p.BirthDate.Format(time.DateOnly), p.Sex, p.IssueDate.Format(time.DateOnly))
}

func TestInsertReadRemoveCycles(t *testing.T) {
	r := newRig(t)
	if _, err := r.dev.Read(r.ctx); !errors.Is(err, reader.ErrNoCard) {
		t.Errorf("Read of an empty reader = %v, want ErrNoCard", err)
	}
	people := []readertest.Person{
		readertest.TestOne,
		{CardNumber: "000011112222", Name: "測二", IDNumber: "F222222222",
			BirthDate: time.Date(1985, 12, 31, 0, 0, 0, 0, time.UTC), Sex: reader.Female,
			IssueDate: time.Date(2004, 1, 1, 0, 0, 0, 0, time.UTC), PadSpace: true},
		{CardNumber: "000055556666", Name: "林堃恒碁", IDNumber: "B912345674",
			BirthDate: time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC), Sex: reader.Male,
			IssueDate: time.Date(2000, 3, 1, 0, 0, 0, 0, time.UTC)},
	}
	for i, p := range people {
		c := card(t, p)
		c.GetResponse = i == 1 // one round the T=0 way, through pcscd
		in, ev := r.insert(c)
		if ev.Mute || len(ev.ATR) == 0 {
			t.Errorf("inserted event %v: want an ATR", ev)
		}
		got, err := r.dev.Read(r.ctx)
		if err != nil {
			t.Fatalf("cycle %d: Read: %v", i, err)
		}
		want := reader.Profile{CardNumber: p.CardNumber, Name: p.Name, IDNumber: p.IDNumber,
			BirthDate: p.BirthDate, Sex: p.Sex, IssueDate: p.IssueDate}
		if got != want {
			t.Errorf("cycle %d: Read = %s, want %s", i, describe(got), describe(want))
		}
		r.remove(in)
		if _, err := r.dev.Read(r.ctx); !errors.Is(err, reader.ErrNoCard) {
			t.Errorf("cycle %d: Read after removal = %v, want ErrNoCard", i, err)
		}
	}
}

func TestCardErrors(t *testing.T) {
	r := newRig(t)
	pullSelect := card(t, readertest.TestOne)
	pullSelect.PullOn = 0xA4
	pullRead := card(t, readertest.TestOne)
	pullRead.PullOn = 0xCA
	garbled := card(t, readertest.TestOne)
	copy(garbled.Profile[42:], "0790230") // 30 February
	for _, tc := range []struct {
		name    string
		card    *readertest.Card
		mute    bool
		want    error
		removed bool // the card leaves during the read
	}{
		{name: "foreign card", card: &readertest.Card{Kind: readertest.Foreign}, want: reader.ErrNotNHICard},
		{name: "mute card", card: &readertest.Card{Kind: readertest.Mute}, mute: true, want: reader.ErrCardMute},
		{name: "pulled during SELECT", card: pullSelect, want: reader.ErrCardRemoved, removed: true},
		{name: "pulled during READ PROFILE", card: pullRead, want: reader.ErrCardRemoved, removed: true},
		{name: "garbled profile", card: garbled, want: reader.ErrGarbledProfile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.t = t
			in, ev := r.insert(tc.card)
			if ev.Mute != tc.mute {
				t.Errorf("inserted event %v: mute = %v, want %v", ev, ev.Mute, tc.mute)
			}
			p, err := r.dev.Read(r.ctx)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Read = %v, want %v", err, tc.want)
			}
			if !p.IsZero() {
				t.Errorf("Read returned %s with its error", describe(p))
			}
			if tc.removed {
				if err := in.Err(); !errors.Is(err, readertest.ErrPulled) {
					t.Errorf("card left with %v, want ErrPulled", err)
				}
				r.expect(reader.CardRemoved)
				return
			}
			r.remove(in)
		})
	}
}

// With vpcd configured pcscd always lists its virtual readers, so "no
// reader" is a Device told to use a reader pcscd does not have: it must
// say so at once, and its watch must stay quiet until cancelled.
func TestReaderAbsent(t *testing.T) {
	itest.Env(t, "NHIKIOSK_VPCD_ADDR", "pcscd with vsmartcard-vpcd")
	dev, err := pcsc.New(pcsc.Options{Reader: "No Such Reader 99 99"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dev.Read(context.Background()); !errors.Is(err, reader.ErrNoReader) {
		t.Errorf("Read = %v, want ErrNoReader", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- dev.Run(ctx) }()
	for ev := range dev.Events() {
		t.Errorf("event %v for a reader that is not there", ev)
	}
	if err := <-runErr; err != nil {
		t.Errorf("Run = %v, want nil when ctx ends", err)
	}
}

// Watching every reader reports each of vpcd's readers on start.
func TestWatchAllReaders(t *testing.T) {
	itest.Env(t, "NHIKIOSK_VPCD_ADDR", "pcscd with vsmartcard-vpcd")
	dev, err := pcsc.New(pcsc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go dev.Run(ctx)
	seen := map[string]bool{}
	for len(seen) < 2 {
		select {
		case ev := <-dev.Events():
			if ev.Kind == reader.ReaderAttached {
				seen[ev.Reader] = true
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("readers attached: %v; want Virtual PCD 00 00 and 00 01", seen)
		}
	}
	for _, n := range []string{"Virtual PCD 00 00", "Virtual PCD 00 01"} {
		if !seen[n] {
			t.Errorf("no ReaderAttached for %q (saw %v)", n, seen)
		}
	}
}

// Reading while watching must not make the watcher see cards move:
// libpcsclite shares one table of reader states per process, and two
// goroutines refreshing it at once used to tear it (spurious removals).
func TestReadWhileWatchingIsQuiet(t *testing.T) {
	r := newRig(t)
	r.insert(card(t, readertest.TestOne))
	other, err := pcsc.New(pcsc.Options{}) // a second watcher in the process
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	go other.Run(ctx)
	go func() {
		for range other.Events() {
		}
	}()
	for i := range 150 {
		if _, err := r.dev.Read(r.ctx); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	select {
	case ev := <-r.dev.Events():
		t.Errorf("event %v while the card stayed in", ev)
	case <-time.After(500 * time.Millisecond):
	}
}
