package uevent

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// A uevent as the kernel sends it when a reader is plugged in (recorded
// from QEMU's usb-ccid on a Linux 6.x guest, trimmed).
const addReader = "add@/devices/pci0000:00/0000:00:04.0/usb1/1-1\x00ACTION=add\x00DEVPATH=/devices/pci0000:00/0000:00:04.0/usb1/1-1\x00SUBSYSTEM=usb\x00MAJOR=189\x00MINOR=1\x00DEVNAME=bus/usb/001/002\x00DEVTYPE=usb_device\x00PRODUCT=8e6/4433/101\x00TYPE=0/0/0\x00BUSNUM=001\x00DEVNUM=002\x00SEQNUM=1502\x00"

// The event device of QEMU's usb-tablet appearing (Linux 6.x guest).
const addTablet = "add@/devices/pci0000:00/0000:00:04.0/usb1/1-2/1-2:1.0/0003:0627:0001.0001/input/input5/event3\x00ACTION=add\x00DEVPATH=/devices/pci0000:00/0000:00:04.0/usb1/1-2/1-2:1.0/0003:0627:0001.0001/input/input5/event3\x00SUBSYSTEM=input\x00MAJOR=13\x00MINOR=67\x00DEVNAME=input/event3\x00SEQNUM=1530\x00"

func TestParse(t *testing.T) {
	u, err := Parse([]byte(addReader))
	if err != nil {
		t.Fatal(err)
	}
	if u.Action != "add" || u.DevPath != "/devices/pci0000:00/0000:00:04.0/usb1/1-1" || u.Subsystem != "usb" || u.DevType != "usb_device" || u.DevName != "bus/usb/001/002" {
		t.Errorf("Parse(reader) = %+v", u)
	}
	u, err = Parse([]byte(addTablet))
	if err != nil {
		t.Fatal(err)
	}
	if u.Subsystem != "input" || u.DevName != "input/event3" || u.DevType != "" || u.Env["MINOR"] != "67" {
		t.Errorf("Parse(tablet) = %+v", u)
	}
	for _, bad := range []string{
		"libudev\x00\xfe\xed\xca\xfe",
		"add@/devices/x\x00ACTION=remove\x00DEVPATH=/devices/x\x00",
		"add@/devices/x\x00ACTION=add\x00DEVPATH=/devices/x\x00NOEQUALS\x00",
		"",
	} {
		if _, err := Parse([]byte(bad)); !errors.Is(err, ErrNotUevent) {
			t.Errorf("Parse(%q) = %v, want ErrNotUevent", bad, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(addReader))
	f.Add([]byte(addTablet))
	f.Add([]byte("remove@/devices/x\x00ACTION=remove\x00DEVPATH=/devices/x\x00"))
	f.Fuzz(func(t *testing.T, p []byte) {
		u, err := Parse(p)
		if err == nil && (u.Action == "" || !strings.HasPrefix(u.DevPath, "/")) {
			t.Fatalf("accepted %q as %+v", p, u)
		}
	})
}

// fakeSource is a Source fed through a channel, counting opens and
// closes.
type fakeSource struct {
	c      chan item
	mu     sync.Mutex
	closed int
}

type item struct {
	ev  Event
	err error
}

func (f *fakeSource) Next(ctx context.Context) (Event, error) {
	select {
	case it := <-f.c:
		return it.ev, it.err
	case <-ctx.Done():
		return Event{}, ctx.Err()
	}
}

func (f *fakeSource) Close() error {
	f.mu.Lock()
	f.closed++
	f.mu.Unlock()
	return nil
}

func next(t *testing.T, s Source) (Event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Next(ctx)
}

func TestMux(t *testing.T) {
	var opened []*fakeSource
	m := NewMux(func() (Source, error) {
		f := &fakeSource{c: make(chan item)}
		opened = append(opened, f)
		return f, nil
	})
	a, err := m.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	if len(opened) != 1 {
		t.Fatalf("two subscriptions opened %d sources, want one shared", len(opened))
	}
	src := opened[0]
	ev := Event{Action: "add", DevPath: "/devices/x", Subsystem: "input"}
	src.c <- item{ev: ev}
	for name, s := range map[string]Source{"a": a, "b": b} {
		if got, err := next(t, s); err != nil || got.DevPath != ev.DevPath {
			t.Errorf("%s.Next = %+v, %v, want %+v", name, got, err, ev)
		}
	}

	// The kernel dropped events: everybody rescans.
	src.c <- item{err: ErrOverflow}
	for name, s := range map[string]Source{"a": a, "b": b} {
		if _, err := next(t, s); !errors.Is(err, ErrOverflow) {
			t.Errorf("%s.Next after ENOBUFS = %v, want ErrOverflow", name, err)
		}
	}

	// b falls behind by more than its buffer while a keeps up: only b
	// loses, its stale queue is dropped, and it hears of it once.
	for i := range subBuffer + 5 {
		src.c <- item{ev: Event{Action: "change", DevPath: "/devices/y" + string(rune('a'+i%26))}}
		if _, err := next(t, a); err != nil {
			t.Fatalf("a.Next = %v", err)
		}
	}
	if _, err := next(t, b); !errors.Is(err, ErrOverflow) {
		t.Errorf("b.Next after falling behind = %v, want ErrOverflow", err)
	}
	src.c <- item{ev: ev}
	if got, err := next(t, b); err != nil || got.DevPath != ev.DevPath {
		t.Errorf("b.Next after the overflow = %+v, %v, want the new event", got, err)
	}
	if _, err := next(t, a); err != nil {
		t.Errorf("a.Next = %v", err)
	}

	// The last subscriber leaving closes the source; a new one opens
	// another.
	a.Close()
	b.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		src.mu.Lock()
		n := src.closed
		src.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("source closed %d times after the last subscriber left, want 1", n)
		}
		time.Sleep(time.Millisecond)
	}
	c, err := m.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if len(opened) != 2 {
		t.Fatalf("%d sources opened, want a new one after the old closed", len(opened))
	}

	// A broken source is every subscriber's error.
	broken := errors.New("socket broke")
	opened[1].c <- item{err: broken}
	if _, err := next(t, c); !errors.Is(err, broken) {
		t.Errorf("Next after the source broke = %v, want %v", err, broken)
	}
}

func TestMuxOpenFails(t *testing.T) {
	m := NewMux(func() (Source, error) { return nil, errors.New("no netlink here") })
	if _, err := m.Subscribe(); err == nil {
		t.Error("Subscribe succeeded without a source")
	}
}

func TestNetlink(t *testing.T) {
	s, err := Netlink()
	if err != nil {
		t.Skipf("no netlink uevent socket here: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	// Nothing is plugged in: Next waits and notices its context.
	if _, err := s.Next(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Next = %v, want an event or the deadline", err)
	}
	// Close ends a Next that waits.
	done := make(chan error, 1)
	go func() {
		for { // an event plugged in meanwhile on this machine is skipped
			if _, err := s.Next(context.Background()); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("Close did not end Next")
	}
}
