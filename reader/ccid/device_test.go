package ccid_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/internal/uevent/ueventtest"
	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/ccid"
	"github.com/nhikiosk/nhikiosk/reader/ccid/ccidtest"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
)

// fakeSysfs lays out one USB device directory the way sysfs does and
// returns the device's path.
func fakeSysfs(t *testing.T, root, name string, descriptors []byte) string {
	t.Helper()
	dev := filepath.Join(root, "devices", "pci0000:00", "usb1", name)
	must(t, os.MkdirAll(dev, 0o755))
	must(t, os.WriteFile(filepath.Join(dev, "descriptors"), descriptors, 0o644))
	must(t, os.WriteFile(filepath.Join(dev, "busnum"), []byte("1\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dev, "devnum"), []byte("4\n"), 0o644))
	links := filepath.Join(root, "bus", "usb", "devices")
	must(t, os.MkdirAll(links, 0o755))
	must(t, os.Symlink(dev, filepath.Join(links, name)))
	return dev
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// quiet drops the Device's event log lines (the failures say enough).
var quiet = slog.New(slog.DiscardHandler)

// testOne is an NHI card for the fake person TEST ONE, answered by the
// same card logic the PC/SC tests use.
func testOne(t *testing.T) ccidtest.Card {
	t.Helper()
	c, err := readertest.NewCard(readertest.TestOne)
	must(t, err)
	return func(apdu []byte) []byte {
		resp, err := c.Respond(apdu)
		if err != nil {
			t.Errorf("card: %v", err)
		}
		return resp
	}
}

// started is a running ccid reader.Device over one fake reader.
type started struct {
	dev     reader.Device
	fake    *ccidtest.Reader
	path    string // the reader's sysfs path
	uevents *ueventtest.Source
	done    chan error
	cancel  context.CancelFunc
}

// start runs a Device on a fake sysfs holding a non-CCID device and the
// fake reader at level, with card in it unless card is nil.
func start(t *testing.T, level uint32, card ccidtest.Card, setup func(*ccidtest.Reader)) *started {
	t.Helper()
	root := t.TempDir()
	fakeSysfs(t, root, "1-1", []byte{0x12, 0x01}) // not a CCID device
	s := &started{fake: ccidtest.New(level), uevents: ueventtest.New(), done: make(chan error, 1)}
	s.path = fakeSysfs(t, root, "1-2", ccidtest.Descriptors(level))
	if setup != nil {
		setup(s.fake)
	}
	if card != nil {
		s.fake.Insert(card)
	}
	var opened []string
	s.dev = ccid.NewDevice(ccid.Options{Log: quiet, SysRoot: root, DevRoot: "/dev", Uevents: s.uevents,
		Open: func(f ccid.Found) (ccid.USB, error) {
			if opened = append(opened, f.DevNode); len(opened) > 1 {
				t.Errorf("opened %v, want the reader once", opened)
			}
			return s.fake, nil
		}})
	var ctx context.Context
	ctx, s.cancel = context.WithCancel(context.Background())
	go func() { s.done <- s.dev.Run(ctx) }()
	t.Cleanup(func() {
		s.cancel()
		if err := <-s.done; err != nil {
			t.Errorf("Run = %v, want nil after cancel", err)
		}
		if _, ok := <-s.dev.Events(); ok {
			t.Errorf("Events still open after Run returned")
		}
		if len(opened) > 0 && opened[0] != "/dev/bus/usb/001/004" {
			t.Errorf("opened %v, want /dev/bus/usb/001/004", opened)
		}
	})
	return s
}

func (s *started) next(t *testing.T, want reader.EventKind) reader.Event {
	t.Helper()
	select {
	case e := <-s.dev.Events():
		if e.Kind != want || e.Reader != s.path {
			t.Fatalf("event %v, want %v: %s", e, want, s.path)
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatalf("no %v event", want)
	}
	return reader.Event{}
}

func readErr(t *testing.T, dev reader.Device, want error) {
	t.Helper()
	p, err := dev.Read(context.Background())
	if !errors.Is(err, want) {
		t.Errorf("Read = %v, want %v", err, want)
	}
	if !p.IsZero() {
		t.Errorf("Read returned a profile with error %v", err)
	}
}

func readTestOne(t *testing.T, dev reader.Device) {
	t.Helper()
	p, err := dev.Read(context.Background())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if p.Name != "測試一" || p.IDNumber != "A123456789" || p.CardNumber != "000012345678" {
		t.Errorf("Read = %q %q %q, want TEST ONE's profile", p.CardNumber, p.Name, p.IDNumber)
	}
}

func TestDevice(t *testing.T) {
	for name, level := range map[string]uint32{"TPDU": ccid.LevelTPDU, "APDU": ccid.LevelShortAPDU} {
		t.Run(name, func(t *testing.T) {
			s := start(t, level, testOne(t), nil)
			// The state at start: the reader, then the card in it.
			s.next(t, reader.ReaderAttached)
			if e := s.next(t, reader.CardInserted); e.Mute || !slices.Equal(e.ATR, ccidtest.NHIATR) {
				t.Errorf("CardInserted = %v, want ATR % X", e, ccidtest.NHIATR)
			}
			readTestOne(t, s.dev)
			s.fake.Remove()
			s.next(t, reader.CardRemoved)
			readErr(t, s.dev, reader.ErrNoCard)
			s.fake.Insert(testOne(t))
			s.next(t, reader.CardInserted)
			readTestOne(t, s.dev)
			// A kernel uevent for a reader already attached changes nothing.
			s.uevents.Send(ueventtest.Add("usb", "usb_device", "/devices/pci0000:00/usb1/1-2", "bus/usb/001/004"))
			// Nor does a rescan after lost events.
			s.uevents.Overflow()
			s.uevents.Send(ueventtest.Add("input", "", "/devices/virtual/input/input9", "")) // the two above were handled
			s.fake.Unplug()
			s.next(t, reader.ReaderDetached)
			readErr(t, s.dev, reader.ErrNoReader)
		})
	}
}

func TestDeviceCardRemovedMidRead(t *testing.T) {
	// The fake reader counts every XfrBlock: at TPDU level the IFSD
	// exchange at power-on is the first.
	for _, tc := range []struct {
		name  string
		level uint32
		xfrs  int // XfrBlocks before the card is pulled out
	}{
		{"TPDU during SELECT", ccid.LevelTPDU, 1},
		{"TPDU during READ PROFILE", ccid.LevelTPDU, 2},
		{"APDU during READ PROFILE", ccid.LevelShortAPDU, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, tc.level, testOne(t), nil)
			s.next(t, reader.ReaderAttached)
			s.next(t, reader.CardInserted)
			s.fake.Faults.RemoveAfter = tc.xfrs
			readErr(t, s.dev, reader.ErrCardRemoved)
		})
	}
}

func TestDeviceMuteCard(t *testing.T) {
	s := start(t, ccid.LevelTPDU, testOne(t), func(r *ccidtest.Reader) { r.Faults.Silent = true })
	s.next(t, reader.ReaderAttached)
	if e := s.next(t, reader.CardInserted); !e.Mute || len(e.ATR) != 0 {
		t.Errorf("CardInserted = %v, want a mute card without ATR", e)
	}
	readErr(t, s.dev, reader.ErrCardMute)
}

func TestDeviceHotplug(t *testing.T) {
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "bus", "usb", "devices"), 0o755))
	fake := ccidtest.New(ccid.LevelShortAPDU)
	uevents := ueventtest.New()
	var want string
	dev := ccid.NewDevice(ccid.Options{Log: quiet, SysRoot: root, Uevents: uevents,
		Open: func(f ccid.Found) (ccid.USB, error) { return fake, nil }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go dev.Run(ctx)
	readErr(t, dev, reader.ErrNoReader)

	want = fakeSysfs(t, root, "3-1", ccidtest.Descriptors(ccid.LevelShortAPDU))
	uevents.Send(ueventtest.Add("usb", "usb_device", "/devices/pci0000:00/usb1/3-1", "bus/usb/001/004"))
	s := &started{dev: dev, path: want}
	s.next(t, reader.ReaderAttached)
	readErr(t, dev, reader.ErrNoCard)
	fake.Insert(testOne(t))
	s.next(t, reader.CardInserted)
	uevents.Send(ueventtest.Remove("usb", "usb_device", "/devices/pci0000:00/usb1/3-1", "bus/usb/001/004"))
	s.next(t, reader.ReaderDetached)
	readErr(t, dev, reader.ErrNoReader)
}

// A reader plugged in while uevents were lost (the socket's buffer
// overflowed) is found by the rescan that follows.
func TestDeviceRescanAfterLostUevents(t *testing.T) {
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "bus", "usb", "devices"), 0o755))
	fake := ccidtest.New(ccid.LevelShortAPDU)
	uevents := ueventtest.New()
	dev := ccid.NewDevice(ccid.Options{Log: quiet, SysRoot: root, Uevents: uevents,
		Open: func(f ccid.Found) (ccid.USB, error) { return fake, nil }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go dev.Run(ctx)
	readErr(t, dev, reader.ErrNoReader)
	path := fakeSysfs(t, root, "2-1", ccidtest.Descriptors(ccid.LevelShortAPDU))
	uevents.Overflow() // its add event was among those lost
	s := &started{dev: dev, path: path}
	s.next(t, reader.ReaderAttached)
	readErr(t, dev, reader.ErrNoCard)
}

// Options.Name (config reader.name) keeps the Device to one reader.
func TestDeviceName(t *testing.T) {
	root := t.TempDir()
	other := fakeSysfs(t, root, "1-1", ccidtest.Descriptors(ccid.LevelTPDU))
	fake := ccidtest.New(ccid.LevelTPDU)
	fake.Insert(testOne(t))
	dev := ccid.NewDevice(ccid.Options{Log: quiet, Name: other + "-not", SysRoot: root, Uevents: ueventtest.New(),
		Open: func(f ccid.Found) (ccid.USB, error) { return fake, nil }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- dev.Run(ctx) }()
	select {
	case e := <-dev.Events():
		t.Errorf("event %v from a reader not named", e)
	case <-time.After(100 * time.Millisecond):
	}
	readErr(t, dev, reader.ErrNoReader)
	cancel()
	must(t, <-done)
}

// A reader whose slot change notifications get lost: the slot is asked
// after SlotCheck of quiet, so a card pulled out is still seen to go (and
// one put in to come).
func TestDeviceLostNotification(t *testing.T) {
	root := t.TempDir()
	path := fakeSysfs(t, root, "4-1", ccidtest.Descriptors(ccid.LevelTPDU))
	fake := ccidtest.New(ccid.LevelTPDU)
	fake.Faults.LoseNotify = true
	fake.Insert(testOne(t))
	dev := ccid.NewDevice(ccid.Options{Log: quiet, SysRoot: root, Uevents: ueventtest.New(), SlotCheck: 20 * time.Millisecond,
		Open: func(f ccid.Found) (ccid.USB, error) { return fake, nil }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go dev.Run(ctx)
	s := &started{dev: dev, path: path}
	s.next(t, reader.ReaderAttached)
	s.next(t, reader.CardInserted)
	readTestOne(t, dev)
	fake.Remove()
	s.next(t, reader.CardRemoved)
	readErr(t, dev, reader.ErrNoCard)
	fake.Insert(testOne(t))
	s.next(t, reader.CardInserted)
	readTestOne(t, dev)
}
