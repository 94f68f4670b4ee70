package keypad

import (
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhikiosk/nhikiosk/display"
)

func raw(typ, code uint16, val int32) []byte {
	b := make([]byte, EventSize)
	o := EventSize - 8
	binary.LittleEndian.PutUint16(b[o:], typ)
	binary.LittleEndian.PutUint16(b[o+2:], code)
	binary.LittleEndian.PutUint32(b[o+4:], uint32(val))
	return b
}

// fakeDev is an evdev node fed through a pipe.
type fakeDev struct {
	*io.PipeReader
	keys, jack, in bool
}

func (f fakeDev) Capable() (bool, bool, bool) { return f.keys, f.jack, f.in }

type recorder struct {
	mu   sync.Mutex
	keys []display.Event
	jack []bool
	got  chan struct{}
}

func (r *recorder) key(ev display.Event) {
	r.mu.Lock()
	r.keys = append(r.keys, ev)
	r.mu.Unlock()
	r.got <- struct{}{}
}

func (r *recorder) plug(in bool) {
	r.mu.Lock()
	r.jack = append(r.jack, in)
	r.mu.Unlock()
	r.got <- struct{}{}
}

func (r *recorder) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-r.got:
		case <-time.After(5 * time.Second):
			t.Fatalf("waited 5 s for %d events", n)
		}
	}
}

func TestRunReadsKeysAndJack(t *testing.T) {
	dev := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dev, "input"), 0o755))
	for _, n := range []string{"event0", "event1", "event2"} {
		must(os.WriteFile(filepath.Join(dev, "input", n), nil, 0o644))
	}
	kr, kw := io.Pipe()
	jr, jw := io.Pipe()
	touch, _ := io.Pipe()
	devs := map[string]Device{
		"event0": fakeDev{PipeReader: touch},                    // a touch screen: not ours
		"event1": fakeDev{PipeReader: kr, keys: true},           // a USB keypad
		"event2": fakeDev{PipeReader: jr, jack: true, in: true}, // the sound card's jack
	}
	r := &recorder{got: make(chan struct{}, 16)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- Run(ctx, Options{DevRoot: dev, Hold: 50 * time.Millisecond, Key: r.key, Jack: r.plug,
			Open: func(p string) (Device, error) { return devs[filepath.Base(p)], nil }})
	}()
	r.wait(t, 1) // headphones already in at start
	write := func(w io.Writer, evs ...[]byte) {
		for _, e := range evs {
			if _, err := w.Write(e); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(kw, raw(evKey, 108, 1), raw(evKey, 108, 0), raw(evKey, 96, 1), raw(evKey, 96, 2), raw(evKey, 96, 0))
	r.wait(t, 2)
	write(kw, raw(evKey, 138, 1), raw(evKey, 138, 0)) // help tapped
	r.wait(t, 1)
	write(kw, raw(evKey, 138, 1)) // help held
	r.wait(t, 1)
	write(kw, raw(evKey, 138, 0), raw(evKey, 30, 1)) // KEY_A: not a tactile key
	write(jw, raw(evSw, swHeadphoneInsert, 0))
	r.wait(t, 1)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []display.Event{
		{Kind: display.KeyPress, Key: display.KeyDown},
		{Kind: display.KeyPress, Key: display.KeySelect},
		{Kind: display.KeyPress, Key: display.KeyHelp},
		{Kind: display.KeyPress, Key: display.KeyHelp, Hold: true},
	}
	if diff := cmp.Diff(want, r.keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{true, false}, r.jack); diff != "" {
		t.Errorf("jack (-want +got):\n%s", diff)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(raw(evKey, 138, 1))
	f.Add(raw(evSw, swHeadphoneInsert, 1))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(Options{Key: func(display.Event) {}, Jack: func(bool) {}, Hold: time.Hour})
		for len(b) > 0 {
			d.Decode(b)
			b = b[min(len(b), EventSize):]
		}
		d.release()
	})
}
