// Package evdevtest fakes touch devices for tests: a sysfs and /dev tree
// holding input devices with the capabilities real panels have, the
// uevents the kernel sends when they come and go, and opened devices that
// deliver the events a test writes and fail with ENODEV when unplugged.
package evdevtest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/display/evdev"
	"github.com/nhikiosk/nhikiosk/internal/uevent"
	"github.com/nhikiosk/nhikiosk/internal/uevent/ueventtest"
)

// Panel is a kind of input device as sysfs describes it, and the axis
// ranges its driver reports.
type Panel struct {
	Name            string
	Abs, Key, Props []int // capability bits
	X, Y            evdev.Axis
}

// The touch devices the kiosk meets, and two that are not touch devices.
var (
	// FT5x06 is the official Raspberry Pi 7" display's touch controller
	// (edt-ft5x06): multi-touch with pointer emulation, 800×480.
	FT5x06 = Panel{Name: "generic ft5x06 (79)",
		Abs:   []int{evdev.AbsX, evdev.AbsY, evdev.AbsMTSlot, evdev.AbsMTPosX, evdev.AbsMTPosY, evdev.AbsMTTracking},
		Key:   []int{evdev.BtnTouch, evdev.BtnToolFinger, evdev.BtnToolDoubleTp},
		Props: []int{evdev.PropDirect}, X: evdev.Axis{Min: 0, Max: 799}, Y: evdev.Axis{Min: 0, Max: 479}}
	// Goodix is Touch Display 2's GT911, portrait 720×1280.
	Goodix = Panel{Name: "Goodix Capacitive TouchScreen",
		Abs:   []int{evdev.AbsX, evdev.AbsY, evdev.AbsMTSlot, evdev.AbsMTTouchMaj, evdev.AbsMTWidthMaj, evdev.AbsMTPosX, evdev.AbsMTPosY, evdev.AbsMTTracking},
		Key:   []int{evdev.BtnTouch},
		Props: []int{evdev.PropDirect}, X: evdev.Axis{Min: 0, Max: 719}, Y: evdev.Axis{Min: 0, Max: 1279}}
	// QEMUTablet is QEMU's usb-tablet: an absolute mouse.
	QEMUTablet = Panel{Name: "QEMU QEMU USB Tablet",
		Abs: []int{evdev.AbsX, evdev.AbsY},
		Key: []int{evdev.BtnLeft, evdev.BtnRight, evdev.BtnMiddle},
		X:   evdev.Axis{Min: 0, Max: 32767}, Y: evdev.Axis{Min: 0, Max: 32767}}
	// Keyboard is not a touch device.
	Keyboard = Panel{Name: "AT Translated Set 2 keyboard", Key: []int{1, 2, 3, 28, 57}}
	// Touchpad moves a cursor: not a touch device either.
	Touchpad = Panel{Name: "SynPS/2 Synaptics TouchPad",
		Abs:   []int{evdev.AbsX, evdev.AbsY, evdev.AbsMTSlot, evdev.AbsMTPosX, evdev.AbsMTPosY, evdev.AbsMTTracking},
		Key:   []int{evdev.BtnLeft, evdev.BtnTouch, evdev.BtnToolFinger},
		Props: []int{evdev.PropPointer}, X: evdev.Axis{Min: 1472, Max: 5472}, Y: evdev.Axis{Min: 1408, Max: 4448}}
)

// Tree is a fake sysfs (Sys) and /dev (Dev) with input devices, and the
// devices a Watcher opened from it (through its Open).
type Tree struct {
	Sys, Dev string
	t        *testing.T

	mu     sync.Mutex
	n      int
	panels map[string]Panel   // by event name
	paths  map[string]string  // event name → DEVPATH
	opened map[string]*Device // by node, the latest
	open   chan *Device
}

// NewTree returns an empty tree in a temporary directory.
func NewTree(t *testing.T) *Tree {
	t.Helper()
	root := t.TempDir()
	tr := &Tree{Sys: filepath.Join(root, "sys"), Dev: filepath.Join(root, "dev"), t: t,
		panels: map[string]Panel{}, paths: map[string]string{}, opened: map[string]*Device{},
		open: make(chan *Device, 16)}
	must(t, os.MkdirAll(filepath.Join(tr.Sys, "class", "input"), 0o755))
	must(t, os.MkdirAll(filepath.Join(tr.Dev, "input"), 0o755))
	return tr
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Plug lays out a new input device of kind p the way sysfs does
// (/sys/devices/…/input/inputN with capabilities, …/eventM with its
// uevent, /sys/class/input/eventM linking to it) and returns the event
// device's name ("event0", "event1", …: the lowest free number, as the
// kernel gives them).
func (tr *Tree) Plug(p Panel) string {
	tr.t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	ev := 0
	for ; tr.panels[fmt.Sprintf("event%d", ev)].Name != ""; ev++ {
	}
	name := fmt.Sprintf("event%d", ev)
	tr.n++ // input device numbers are never reused in this fake
	devpath := fmt.Sprintf("/devices/platform/usb%d/input/input%d/%s", tr.n, tr.n, name)
	input := filepath.Join(tr.Sys, filepath.Dir(devpath))
	must(tr.t, os.MkdirAll(filepath.Join(input, "capabilities"), 0o755))
	must(tr.t, os.MkdirAll(filepath.Join(tr.Sys, devpath), 0o755))
	write := func(path, s string) { must(tr.t, os.WriteFile(path, []byte(s+"\n"), 0o644)) }
	write(filepath.Join(input, "name"), p.Name)
	write(filepath.Join(input, "capabilities", "abs"), Bitmap(p.Abs...))
	write(filepath.Join(input, "capabilities", "key"), Bitmap(p.Key...))
	write(filepath.Join(input, "properties"), Bitmap(p.Props...))
	write(filepath.Join(tr.Sys, devpath, "uevent"), "MAJOR=13\nMINOR="+fmt.Sprint(64+ev)+"\nDEVNAME=input/"+name)
	must(tr.t, os.Symlink(filepath.Join(tr.Sys, devpath), filepath.Join(tr.Sys, "class", "input", name)))
	write(filepath.Join(tr.Dev, "input", name), "")
	tr.panels[name], tr.paths[name] = p, devpath
	return name
}

// Unplug removes the device from the tree (not its opened Device: call
// its Unplug for the ENODEV its reader gets).
func (tr *Tree) Unplug(name string) {
	tr.t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	must(tr.t, os.RemoveAll(filepath.Join(tr.Sys, filepath.Dir(tr.paths[name]))))
	must(tr.t, os.Remove(filepath.Join(tr.Sys, "class", "input", name)))
	must(tr.t, os.Remove(filepath.Join(tr.Dev, "input", name)))
	delete(tr.panels, name)
}

// Add is the uevent the kernel sends when the event device name appears.
func (tr *Tree) Add(name string) uevent.Event {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return ueventtest.Add("input", "", tr.paths[name], "input/"+name)
}

// Remove is the uevent the kernel sends when it goes.
func (tr *Tree) Remove(name string) uevent.Event {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return ueventtest.Remove("input", "", tr.paths[name], "input/"+name)
}

// Node is the device node of name.
func (tr *Tree) Node(name string) string { return filepath.Join(tr.Dev, "input", name) }

// Open is a Watcher's Options.Open: it opens a fake Device for a node in
// the tree, with its panel's ranges, and hands it to Opened.
func (tr *Tree) Open(f evdev.Found) (evdev.Device, error) {
	tr.mu.Lock()
	name := filepath.Base(f.DevNode)
	p, ok := tr.panels[name]
	tr.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("open %s: %w", f.DevNode, os.ErrNotExist)
	}
	d := NewDevice(evdev.Info{X: p.X, Y: p.Y})
	d.Node = f.DevNode
	tr.open <- d
	return d, nil
}

// Opened returns the next device the Watcher opened, failing the test
// if none is opened in time.
func (tr *Tree) Opened(t *testing.T) *Device {
	t.Helper()
	select {
	case d := <-tr.open:
		return d
	case <-timeout():
		t.Fatal("no touch device opened")
		return nil
	}
}

// NotOpened fails the test if the Watcher opened a device.
func (tr *Tree) NotOpened(t *testing.T) {
	t.Helper()
	select {
	case d := <-tr.open:
		t.Errorf("%s opened", d.Node)
	default:
	}
}

// Bitmap formats capability bits as sysfs does: hexadecimal longs
// (64 bits here, as on the kiosk's arm64 and amd64 kernels), most
// significant first.
func Bitmap(bits ...int) string {
	var words []uint64
	for _, b := range bits {
		for len(words) <= b/64 {
			words = append(words, 0)
		}
		words[b/64] |= 1 << (b % 64)
	}
	if len(words) == 0 {
		return "0"
	}
	var s []string
	for i := len(words) - 1; i >= 0; i-- {
		s = append(s, fmt.Sprintf("%x", words[i]))
	}
	return strings.Join(s, " ")
}

// Device is an opened fake touch device: Read delivers what the test
// writes; after Unplug it fails with ENODEV, as a real one does.
type Device struct {
	Node string
	info evdev.Info
	r    *io.PipeReader
	w    *io.PipeWriter

	mu     sync.Mutex
	closed bool
}

// NewDevice returns a device that says info of itself.
func NewDevice(info evdev.Info) *Device {
	r, w := io.Pipe()
	return &Device{info: info, r: r, w: w}
}

// Info implements evdev.Device.
func (d *Device) Info() evdev.Info { return d.info }

// Read implements evdev.Device.
func (d *Device) Read(p []byte) (int, error) { return d.r.Read(p) }

// Close implements evdev.Device.
func (d *Device) Close() error {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	return d.r.CloseWithError(os.ErrClosed)
}

// Closed reports whether the reader closed the device.
func (d *Device) Closed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closed
}

// Send writes raw input_event records; it returns once the reader has
// taken them (or the device was closed).
func (d *Device) Send(events ...[]byte) error {
	for _, e := range events {
		if _, err := d.w.Write(e); err != nil {
			return err
		}
	}
	return nil
}

// Unplug makes the reader's next Read fail with ENODEV.
func (d *Device) Unplug() { d.w.CloseWithError(fmt.Errorf("read %s: %w", d.Node, syscall.ENODEV)) }

// Fail makes the reader's next Read fail with errno, as a device still
// plugged in whose controller stopped answering does (EIO).
func (d *Device) Fail(errno syscall.Errno) {
	d.w.CloseWithError(fmt.Errorf("read %s: %w", d.Node, errno))
}

// Tap returns the events of a touch at raw (x, y) and its release, as a
// single-touch panel sends them (ABS_X/ABS_Y, BTN_TOUCH).
func Tap(x, y int32) [][]byte {
	return [][]byte{
		evdev.EncodeEvent(evdev.EvAbs, evdev.AbsX, x), evdev.EncodeEvent(evdev.EvAbs, evdev.AbsY, y),
		evdev.EncodeEvent(evdev.EvKey, evdev.BtnTouch, 1), evdev.EncodeEvent(evdev.EvSyn, evdev.SynReport, 0),
		evdev.EncodeEvent(evdev.EvKey, evdev.BtnTouch, 0), evdev.EncodeEvent(evdev.EvSyn, evdev.SynReport, 0),
	}
}

// Press returns the events of a finger put down at raw (x, y) and kept
// there.
func Press(x, y int32) [][]byte { return Tap(x, y)[:4] }

var timeout = func() <-chan time.Time { return time.After(10 * time.Second) }
