package ccid_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/reader/ccid"
	"github.com/nhikiosk/nhikiosk/reader/ccid/ccidtest"
)

// fakeSysfs lays out one USB device directory the way sysfs does and
// returns the sysfs root and the device's path.
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

// chanUevents is a UeventSource fed by the test.
type chanUevents chan ccid.Uevent

func (c chanUevents) Next(ctx context.Context) (ccid.Uevent, error) {
	select {
	case u := <-c:
		return u, nil
	case <-ctx.Done():
		return ccid.Uevent{}, ctx.Err()
	}
}
func (c chanUevents) Close() error { return nil }

func next(t *testing.T, events <-chan ccid.Event, want ccid.EventKind) ccid.Event {
	t.Helper()
	select {
	case e := <-events:
		if e.Kind != want {
			t.Fatalf("event %v (err %v), want %v", e.Kind, e.Err, want)
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatalf("no %v event", want)
	}
	return ccid.Event{}
}

func TestMonitor(t *testing.T) {
	root := t.TempDir()
	fakeSysfs(t, root, "1-1", []byte{0x12, 0x01}) // not a CCID device
	dev := fakeSysfs(t, root, "1-2", ccidtest.Descriptors(ccid.LevelTPDU))

	fake := ccidtest.New(ccid.LevelTPDU)
	fake.Insert(nhiCard)
	uevents := make(chanUevents) // unbuffered: a send returns once Run took it
	var opened []ccid.Found
	m := &ccid.Monitor{SysRoot: root, DevRoot: "/dev", Uevents: uevents,
		Open: func(f ccid.Found) (ccid.Device, error) { opened = append(opened, f); return fake, nil }}
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan ccid.Event)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, events) }()

	if e := next(t, events, ccid.ReaderAttached); e.Reader != dev {
		t.Errorf("attached reader %q, want %q", e.Reader, dev)
	}
	e := next(t, events, ccid.CardInserted)
	if e.Err != nil || e.Card == nil {
		t.Fatalf("CardInserted with card %v, err %v", e.Card, e.Err)
	}
	got, err := readCard(ctx, e.Card)
	if err != nil || !bytes.Equal(got, profile()) {
		t.Fatalf("read card from event: % X, %v", got, err)
	}
	fake.Remove()
	next(t, events, ccid.CardRemoved)
	fake.Insert(nhiCard)
	next(t, events, ccid.CardInserted)
	// A kernel uevent for a device that is already attached changes nothing.
	uevents <- ccid.Uevent{Action: "add", Subsystem: "usb", DevType: "usb_device", DevPath: "/devices/pci0000:00/usb1/1-2"}
	uevents <- ccid.Uevent{Action: "add", Subsystem: "input"} // the add above is handled
	fake.Unplug()
	next(t, events, ccid.ReaderDetached)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if len(opened) != 1 || opened[0].DevNode != "/dev/bus/usb/001/004" {
		t.Errorf("opened %+v, want one reader at /dev/bus/usb/001/004", opened)
	}
}

func TestMonitorHotplug(t *testing.T) {
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "bus", "usb", "devices"), 0o755))
	fake := ccidtest.New(ccid.LevelShortAPDU)
	uevents := make(chanUevents, 4)
	m := &ccid.Monitor{SysRoot: root, DevRoot: "/dev", Uevents: uevents,
		Open: func(ccid.Found) (ccid.Device, error) { return fake, nil }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan ccid.Event)
	go m.Run(ctx, events)

	fakeSysfs(t, root, "3-1", ccidtest.Descriptors(ccid.LevelShortAPDU))
	uevents <- ccid.Uevent{Action: "add", Subsystem: "usb", DevType: "usb_device", DevPath: "/devices/pci0000:00/usb1/3-1"}
	next(t, events, ccid.ReaderAttached)
	fake.Insert(nhiCard)
	next(t, events, ccid.CardInserted)
	uevents <- ccid.Uevent{Action: "remove", Subsystem: "usb", DevType: "usb_device", DevPath: "/devices/pci0000:00/usb1/3-1"}
	next(t, events, ccid.ReaderDetached)
}
