package evdev_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/evdev"
	"github.com/nhikiosk/nhikiosk/display/evdev/evdevtest"
	"github.com/nhikiosk/nhikiosk/internal/uevent/ueventtest"
)

// watched is a running Watcher on a fake tree.
type watched struct {
	tree    *evdevtest.Tree
	uevents *ueventtest.Source
	touches chan display.Event
	changes chan []string
	cancel  context.CancelFunc
	done    chan error
}

func watch(t *testing.T, tree *evdevtest.Tree, tune func(*evdev.Options)) *watched {
	t.Helper()
	w := &watched{tree: tree, uevents: ueventtest.New(), touches: make(chan display.Event, 64),
		changes: make(chan []string, 64), done: make(chan error, 1)}
	o := evdev.Options{SysRoot: tree.Sys, DevRoot: tree.Dev, Uevents: w.uevents, Open: tree.Open,
		Size: image.Pt(800, 480), Rescan: time.Hour, Log: slog.New(slog.DiscardHandler),
		Send: func(ev display.Event) { w.touches <- ev },
		Changed: func(fs []evdev.Found) {
			var names []string
			for _, f := range fs {
				names = append(names, strings.TrimPrefix(f.DevNode, tree.Dev+"/input/"))
			}
			w.changes <- names
		}}
	if tune != nil {
		tune(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() { w.done <- evdev.NewWatcher(o).Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-w.done:
			if err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return w
}

// devices waits for Changed to report exactly want.
func (w *watched) devices(t *testing.T, want ...string) {
	t.Helper()
	var last []string
	for {
		select {
		case got := <-w.changes:
			if slices.Equal(got, want) {
				return
			}
			last = got
		case <-time.After(10 * time.Second):
			t.Fatalf("touch devices %q, want %q", last, want)
		}
	}
}

// touch waits for the next touch.
func (w *watched) touch(t *testing.T) display.Event {
	t.Helper()
	select {
	case ev := <-w.touches:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no touch arrived")
		return display.Event{}
	}
}

// tap sends a tap at raw (x, y) on d and checks it arrives at want.
func (w *watched) tap(t *testing.T, d *evdevtest.Device, x, y int32, want image.Point) int {
	t.Helper()
	if err := d.Send(evdevtest.Tap(x, y)...); err != nil {
		t.Fatalf("tap on %s: %v", d.Node, err)
	}
	dn, up := w.touch(t), w.touch(t)
	if dn.Kind != display.PointerDown || up.Kind != display.PointerUp || dn.Pos() != want || up.Pos() != want || dn.Pointer != up.Pointer {
		t.Errorf("tap on %s = %+v, %+v, want down and up at %v", d.Node, dn, up, want)
	}
	return dn.Pointer
}

func TestWatcherFindsTouchDevices(t *testing.T) {
	tree := evdevtest.NewTree(t)
	tree.Plug(evdevtest.Keyboard)
	tree.Plug(evdevtest.Touchpad)
	ft := tree.Plug(evdevtest.FT5x06)
	w := watch(t, tree, nil)
	d := tree.Opened(t)
	w.devices(t, ft)
	if d.Node != tree.Node(ft) {
		t.Errorf("opened %s, want %s", d.Node, tree.Node(ft))
	}
	tree.NotOpened(t) // neither the keyboard nor the touchpad
	// The panel's 0..799 × 0..479 onto the 800×480 framebuffer.
	w.tap(t, d, 400, 240, image.Pt(400, 240))
}

func TestWatcherHotplug(t *testing.T) {
	tree := evdevtest.NewTree(t)
	w := watch(t, tree, nil)
	w.devices(t) // none at start: the kiosk has no touch

	// A late device: the tablet plugged in after start.
	tab := tree.Plug(evdevtest.QEMUTablet)
	w.uevents.Send(tree.Add(tab))
	d1 := tree.Opened(t)
	w.devices(t, tab)
	p1 := w.tap(t, d1, 16384, 16384, image.Pt(400, 240))

	// Several at once: a panel too, each touch with its own pointer.
	ft := tree.Plug(evdevtest.FT5x06)
	w.uevents.Send(tree.Add(ft))
	d2 := tree.Opened(t)
	w.devices(t, tab, ft)
	if p2 := w.tap(t, d2, 799, 0, image.Pt(799, 0)); p2 == p1 {
		t.Errorf("both devices' touches carry pointer %d", p1)
	}
	w.tap(t, d1, 0, 32767, image.Pt(0, 479))

	// Removed (a remove uevent) with a finger down: the touch is
	// cancelled, the device closed.
	if err := d2.Send(evdevtest.Press(100, 100)...); err != nil {
		t.Fatal(err)
	}
	if ev := w.touch(t); ev.Kind != display.PointerDown {
		t.Fatalf("press = %+v", ev)
	}
	tree.Unplug(ft)
	w.uevents.Send(tree.Remove(ft))
	w.devices(t, tab)
	if ev := w.touch(t); ev.Kind != display.PointerCancel || ev.Pos() != image.Pt(100, 100) {
		t.Errorf("after removal mid-touch: %+v, want a cancel at (100,100)", ev)
	}
	if !d2.Closed() {
		t.Error("removed device still open")
	}

	// Gone without a uevent: its read fails with ENODEV.
	d1.Unplug()
	tree.Unplug(tab)
	w.devices(t)

	// Plugged in again: the kernel gives it the lowest free number again.
	again := tree.Plug(evdevtest.QEMUTablet)
	if again != tab {
		t.Fatalf("replugged as %s, want %s", again, tab)
	}
	w.uevents.Send(tree.Add(again))
	d3 := tree.Opened(t)
	w.devices(t, again)
	w.tap(t, d3, 32767, 32767, image.Pt(799, 479))
}

// A device whose add uevent was lost is found by the rescan the loss
// causes, and one plugged in without any uevent by the periodic rescan.
func TestWatcherRescan(t *testing.T) {
	tree := evdevtest.NewTree(t)
	w := watch(t, tree, func(o *evdev.Options) { o.Rescan = 20 * time.Millisecond })
	w.devices(t)
	g := tree.Plug(evdevtest.Goodix)
	w.uevents.Overflow()
	d := tree.Opened(t)
	w.devices(t, g)
	// Goodix's 720×1280 (portrait) onto 800×480.
	w.tap(t, d, 719, 640, image.Pt(799, 240))

	ft := tree.Plug(evdevtest.FT5x06) // no uevent at all
	tree.Opened(t)
	w.devices(t, g, ft)
}

// A device that cannot be opened yet is tried again on the next rescan.
func TestWatcherOpenFails(t *testing.T) {
	tree := evdevtest.NewTree(t)
	tries := 0
	w := watch(t, tree, func(o *evdev.Options) {
		o.Rescan = 20 * time.Millisecond
		o.Open = func(f evdev.Found) (evdev.Device, error) {
			if tries++; tries < 3 {
				return nil, fmt.Errorf("open %s: %w", f.DevNode, errors.New("permission denied"))
			}
			return tree.Open(f)
		}
	})
	w.devices(t)
	ft := tree.Plug(evdevtest.FT5x06)
	w.uevents.Send(tree.Add(ft))
	tree.Opened(t)
	w.devices(t, ft)
}

// Calibration from the configuration overrides the device's ranges and
// turns a panel mounted upside down.
func TestWatcherCalibration(t *testing.T) {
	tree := evdevtest.NewTree(t)
	tree.Plug(evdevtest.FT5x06)
	w := watch(t, tree, func(o *evdev.Options) {
		o.Calibration = &evdev.Calibration{X: evdev.Axis{Min: 0, Max: 1599}, InvertX: true, InvertY: true}
	})
	d := tree.Opened(t)
	w.tap(t, d, 0, 0, image.Pt(799, 479))
	w.tap(t, d, 1599, 479, image.Pt(0, 0))
}

func TestScan(t *testing.T) {
	tree := evdevtest.NewTree(t)
	tree.Plug(evdevtest.Keyboard)
	tab := tree.Plug(evdevtest.QEMUTablet)
	tree.Plug(evdevtest.Touchpad)
	g := tree.Plug(evdevtest.Goodix)
	found, err := evdev.Scan(tree.Sys, tree.Dev)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range found {
		got = append(got, f.Name+" "+strings.TrimPrefix(f.DevNode, tree.Dev))
	}
	want := []string{"QEMU QEMU USB Tablet /input/" + tab, "Goodix Capacitive TouchScreen /input/" + g}
	if !slices.Equal(got, want) {
		t.Errorf("Scan = %q, want %q", got, want)
	}
}

// fakeNow is a clock that moves only when told.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeNow) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeNow) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A touch device whose reads fail with EIO (plugged in, its controller
// not answering) is logged once and counted as missing; it is opened
// again only after a backoff that doubles, and counted again only once it
// reads: no "attached"/"failed" pairs, no missing/restored flapping.
func TestWatcherReadFails(t *testing.T) {
	tree := evdevtest.NewTree(t)
	g := tree.Plug(evdevtest.Goodix)
	now := &fakeNow{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	var log syncBuffer
	const rescan = 5 * time.Millisecond
	w := watch(t, tree, func(o *evdev.Options) {
		o.Rescan, o.Now = rescan, now.Now
		o.Log = slog.New(slog.NewTextHandler(&log, nil))
	})
	d := tree.Opened(t)
	w.devices(t, g)
	d.Fail(syscall.EIO)
	w.devices(t)
	closed(t, d)

	// Rescans come every 5 ms, but the clock does not move: no retry.
	time.Sleep(50 * time.Millisecond)
	tree.NotOpened(t)
	for _, wait := range []time.Duration{rescan, 2 * rescan, 4 * rescan} { // the backoff doubles
		now.Advance(wait - time.Millisecond)
		time.Sleep(30 * time.Millisecond) // several rescans, still inside the backoff
		tree.NotOpened(t)
		now.Advance(time.Millisecond)
		d = tree.Opened(t)
		d.Fail(syscall.EIO)
		closed(t, d)
		noTouch(t, w, 20*time.Millisecond)
	}
	// Opened again and reading: counted again.
	now.Advance(8 * rescan)
	d = tree.Opened(t)
	w.tap(t, d, 360, 640, image.Pt(400, 240))
	w.devices(t, g)
	out := log.String()
	if n := strings.Count(out, "touch device failed"); n != 1 {
		t.Errorf("logged %d failures, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, "touch device attached"); n != 1 {
		t.Errorf("logged %d attachments, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "input/output error") || !strings.Contains(out, "touch device reads again") {
		t.Errorf("log lacks the EIO or the recovery:\n%s", out)
	}
}

// noTouch fails the test if Changed lists a touch device within d (it
// may repeat that there is none).
func noTouch(t *testing.T, w *watched, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case got := <-w.changes:
			if len(got) != 0 {
				t.Fatalf("touch devices changed to %q while the device fails", got)
			}
		case <-deadline:
			return
		}
	}
}

// closed waits until the watcher closed d: it has noted d's failure.
func closed(t *testing.T, d *evdevtest.Device) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !d.Closed() {
		if time.Now().After(deadline) {
			t.Fatalf("%s not closed after its read failed", d.Node)
		}
		time.Sleep(time.Millisecond)
	}
}

// syncBuffer is a strings.Builder safe for the watcher's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

// Touch Display 2 (goodix, a 720×1280 portrait panel) mounted in
// landscape: with the frame turned by display.rotation, a touch on the
// panel lands on the frame's pixel shown there (1280×720 frame).
func TestWatcherRotation(t *testing.T) {
	panel := image.Pt(720, 1280)
	for _, tt := range []struct {
		rot display.Rotation
		// raw panel positions of the frame's top-left and bottom-right
		// corners (the goodix's axes are the panel's pixels)
		topLeft, bottomRight [2]int32
	}{
		{display.Rotate0, [2]int32{0, 0}, [2]int32{719, 1279}},
		{display.Rotate90, [2]int32{719, 0}, [2]int32{0, 1279}},
		{display.Rotate180, [2]int32{719, 1279}, [2]int32{0, 0}},
		{display.Rotate270, [2]int32{0, 1279}, [2]int32{719, 0}},
	} {
		t.Run(tt.rot.String(), func(t *testing.T) {
			tree := evdevtest.NewTree(t)
			tree.Plug(evdevtest.Goodix)
			w := watch(t, tree, func(o *evdev.Options) { o.Size, o.Rotation = panel, tt.rot })
			d := tree.Opened(t)
			size := tt.rot.Size(panel)
			w.tap(t, d, tt.topLeft[0], tt.topLeft[1], image.Pt(0, 0))
			w.tap(t, d, tt.bottomRight[0], tt.bottomRight[1], size.Sub(image.Pt(1, 1)))
			// Any pixel: where the frame's (100, 50) is shown.
			q := tt.rot.ToPanel(image.Pt(100, 50), panel)
			w.tap(t, d, int32(q.X), int32(q.Y), image.Pt(100, 50))
		})
	}
}
