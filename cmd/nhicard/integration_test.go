package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/internal/itest"
	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/pcsc"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
)

// rig holds one vpcd reader for the test and watches it through pcscd, so
// the test knows when an emulated card is in and out.
type rig struct {
	t      *testing.T
	addr   string
	name   string
	events <-chan reader.Event
}

// newRig locks vpcd's reader on port (35963: "Virtual PCD 00 00", 35964:
// "Virtual PCD 00 01"). These tests use the second reader by default, so
// they run beside reader/pcsc's, which use the first.
func newRig(t *testing.T, port int) *rig {
	t.Helper()
	if !pcsc.Built {
		itest.Missing(t, "nhicard is built without PC/SC (no cgo, or the nopcsc tag because libpcsclite-dev is missing)")
	}
	base := itest.Env(t, "NHIKIOSK_VPCD_ADDR", "pcscd with vsmartcard-vpcd")
	addr, err := readertest.WithPort(base, port)
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = dev.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	r := &rig{t: t, addr: addr, name: name, events: dev.Events()}
	r.expect(reader.ReaderAttached)
	// A card another test left behind, not yet seen leaving (vpcd notices
	// only at its next poll): wait it out.
	select {
	case ev := <-r.events:
		if ev.Kind != reader.CardInserted {
			t.Fatalf("event %v, want none or a stale card", ev)
		}
		r.expect(reader.CardRemoved)
	case <-time.After(200 * time.Millisecond):
	}
	return r
}

func (r *rig) expect(kind reader.EventKind) {
	r.t.Helper()
	select {
	case ev := <-r.events:
		if ev.Kind != kind {
			r.t.Fatalf("event %v, want %v", ev, kind)
		}
	case <-time.After(5 * time.Second):
		r.t.Fatalf("no %v event within 5s", kind)
	}
}

// emulate runs `nhicard emulate` with args into the rig's reader until the
// returned stop is called. stop(true) waits until pcscd has seen the card
// leave; stop(false) is for a card already seen leaving by itself.
func (r *rig) emulate(args ...string) (stop func(expectRemoved bool)) {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, append([]string{"emulate", "--vpcd", r.addr}, args...), &out, &out)
	}()
	r.expect(reader.CardInserted)
	var once sync.Once
	stop = func(expectRemoved bool) {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				r.t.Errorf("emulate %q = %v (%s)", args, err, out.String())
			}
			if expectRemoved {
				r.expect(reader.CardRemoved)
			}
		})
	}
	r.t.Cleanup(func() { stop(true) })
	return stop
}

func (r *rig) read(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"read", "--timeout", "5s"}, args...), &out, &errOut)
	return out.String(), err
}

// The exact bytes of `nhicard read --json` for fake people with 2-, 3- and
// 4-character names, rare Big5 characters, NUL and space padding.
func TestReadJSON(t *testing.T) {
	r := newRig(t, 35964)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"three characters, NUL padding (defaults)", nil,
			`{"card_number":"000012345678","name":"測試一","id_number":"A123456789","birth_date":"1990-01-02","sex":"M","issue_date":"2015-06-30"}`},
		{"two characters, space padding",
			[]string{"--name", "測二", "--id", "F222222222", "--sex", "F", "--card-number", "000011112222",
				"--birth", "1985-12-31", "--issue", "2004-01-01", "--pad", "space"},
			`{"card_number":"000011112222","name":"測二","id_number":"F222222222","birth_date":"1985-12-31","sex":"F","issue_date":"2004-01-01"}`},
		{"four characters, old resident certificate",
			[]string{"--name", "歐陽測試", "--id", "AC00000012", "--sex", "F", "--card-number", "000033334444",
				"--birth", "1970-02-28", "--issue", "2020-02-29"},
			`{"card_number":"000033334444","name":"歐陽測試","id_number":"AC00000012","birth_date":"1970-02-28","sex":"F","issue_date":"2020-02-29"}`},
		{"rare Big5 (ETEN F9xx, HKSCS), new resident certificate, space padding",
			[]string{"--name", "堃喆犇恒碁", "--id", "B912345674", "--card-number", "000055556666",
				"--birth", "2000-02-29", "--issue", "2000-03-01", "--pad", "space"},
			`{"card_number":"000055556666","name":"堃喆犇恒碁","id_number":"B912345674","birth_date":"2000-02-29","sex":"M","issue_date":"2000-03-01"}`},
		{"latin name, T=0 card (61xx)",
			[]string{"--name", "TEST ONE", "--id", "A800000014", "--sex", "F", "--card-number", "000077778888",
				"--birth", "1912-01-01", "--issue", "2021-01-02", "--pad", "space", "--t0"},
			`{"card_number":"000077778888","name":"TEST ONE","id_number":"A800000014","birth_date":"1912-01-01","sex":"F","issue_date":"2021-01-02"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.t = t
			stop := r.emulate(tc.args...)
			got, err := r.read("--json", "--reader", r.name)
			stop(true)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if want := tc.want + "\n"; got != want {
				t.Errorf("read --json printed\n%q\nwant\n%q", got, want)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	r := newRig(t, 35964)
	for _, tc := range []struct {
		name    string
		args    []string
		want    error
		pulled  bool
		message string
	}{
		{"foreign card", []string{"--kind", "foreign"}, reader.ErrNotNHICard, false, "this is not an NHI card"},
		{"mute card", []string{"--kind", "mute"}, reader.ErrCardMute, false, "the card does not answer"},
		{"pulled mid-read", []string{"--pull-on", "read"}, reader.ErrCardRemoved, true, "the card was removed during the read"},
		{"pulled at select", []string{"--pull-on", "select"}, reader.ErrCardRemoved, true, "the card was removed during the read"},
		{"bad check digit", []string{"--id", "A123456788"}, reader.ErrGarbledProfile, false, "the card's data is unreadable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.t = t
			stop := r.emulate(tc.args...)
			out, err := r.read("--json", "--reader", r.name)
			if tc.pulled {
				r.expect(reader.CardRemoved)
			}
			stop(!tc.pulled)
			if !errors.Is(err, tc.want) {
				t.Fatalf("read = %v, want %v", err, tc.want)
			}
			if out != "" {
				t.Errorf("read printed %q with its error", out)
			}
			if msg := message(err); !strings.HasPrefix(msg, tc.message) {
				t.Errorf("message = %q, want it to start %q", msg, tc.message)
			}
		})
	}
	t.Run("no card", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"read", "--json", "--reader", r.name, "--timeout", "800ms"}, &out, &errOut)
		if !errors.Is(err, reader.ErrNoCard) || exitCode(err) != 5 {
			t.Errorf("read of an empty reader = %v (exit %d), want ErrNoCard (exit 5)", err, exitCode(err))
		}
	})
	t.Run("no reader", func(t *testing.T) {
		_, err := r.read("--json", "--reader", "No Such Reader 99 99")
		if !errors.Is(err, reader.ErrNoReader) || exitCode(err) != 3 {
			t.Errorf("read of a missing reader = %v (exit %d), want ErrNoReader (exit 3)", err, exitCode(err))
		}
	})
}

// Without --reader, read waits on the first reader, Virtual PCD 00 00.
func TestReadFirstReader(t *testing.T) {
	r := newRig(t, 35963)
	stop := r.emulate()
	got, err := r.read("--json")
	stop(true)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"card_number":"000012345678","name":"測試一","id_number":"A123456789","birth_date":"1990-01-02","sex":"M","issue_date":"2015-06-30"}` + "\n"; got != want {
		t.Errorf("read --json = %q, want %q", got, want)
	}
}

// syncBuffer is written by watch's goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWatch(t *testing.T) {
	r := newRig(t, 35964)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"watch", "--reader", r.name}, &out, &out) }()
	stop := r.emulate("--kind", "mute")
	stop(true)
	// The rig saw the card leave; give watch's own copy of the event time
	// to be printed before stopping it.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(out.String(), "card removed: ") {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("watch = %v", err)
	}
	got := out.String()
	for _, want := range []string{
		"reader attached: " + r.name + "\n",
		"card inserted: " + r.name + " (mute: no ATR)\n",
		"card removed: " + r.name + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("watch printed\n%s\nwithout %q", got, want)
		}
	}
}
