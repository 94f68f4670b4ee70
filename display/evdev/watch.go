package evdev

import (
	"context"
	"errors"
	"image"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/internal/uevent"
)

// Options configure a Watcher. Apart from Size and Send, the zero value
// follows every touch device of the running system.
type Options struct {
	// SysRoot and DevRoot are where sysfs and the device nodes live;
	// empty means "/sys" and "/dev" (tests point them at a fake tree).
	SysRoot, DevRoot string
	// Uevents delivers hotplug events (a uevent.Mux subscription where
	// several parts follow hotplug); nil opens the kernel's netlink
	// socket when Run starts. Run closes it. Without one (no netlink),
	// Run still finds devices by rescanning.
	Uevents uevent.Source
	// Open opens a found device; nil is Open (the /dev/input node and its
	// EVIOCGABS ranges).
	Open func(Found) (Device, error)
	// Rescan is how often sysfs is listed again, for devices whose uevent
	// was missed or that could not be opened at once; 0 means 10 s.
	// Events lost from a full socket buffer cause a rescan at once.
	Rescan time.Duration
	// Size is the framebuffer's size in pixels: each device's axis ranges
	// are mapped onto it.
	Size image.Point
	// Calibration, if set, overrides the devices' own calibration: its
	// axes where they are set (Max > Min), and always its swap and invert
	// flags (a panel mounted rotated or mirrored).
	Calibration *Calibration
	// Send receives every touch, in screen pixels; each device has its own
	// Pointer id. It is called from the devices' goroutines, possibly at
	// once, and must not block.
	Send func(display.Event)
	// Changed, if set, is called with the touch devices in use after the
	// first scan and whenever one comes or goes, one call at a time.
	Changed func([]Found)
	// Log receives one line per device attached, detached or failing;
	// nil is slog.Default().
	Log *slog.Logger
}

// Watcher finds touch devices and keeps reading every one of them as
// they come and go: at start (a sysfs scan), on kernel uevents (add,
// remove), on a periodic rescan, and when a read fails with ENODEV.
type Watcher struct {
	o Options

	mu     sync.Mutex
	devs   map[string]*touch // by device node
	nextID int
	wg     sync.WaitGroup

	notify sync.Mutex        // one Changed call at a time
	failed map[string]string // node → SysPath that could not be opened (logged once); Run's goroutine only
}

// touch is one opened device.
type touch struct {
	found Found
	dev   Device
}

// NewWatcher returns a Watcher; nothing is opened until Run.
func NewWatcher(o Options) *Watcher {
	if o.SysRoot == "" {
		o.SysRoot = "/sys"
	}
	if o.DevRoot == "" {
		o.DevRoot = "/dev"
	}
	if o.Open == nil {
		o.Open = Open
	}
	if o.Rescan <= 0 {
		o.Rescan = 10 * time.Second
	}
	if o.Send == nil {
		o.Send = func(display.Event) {}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Watcher{o: o, devs: make(map[string]*touch), failed: make(map[string]string)}
}

// Devices returns the touch devices in use, by node.
func (w *Watcher) Devices() []Found {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Found, 0, len(w.devs))
	for _, t := range w.devs {
		out = append(out, t.found)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DevNode < out[j].DevNode })
	return out
}

// Run follows touch devices until ctx ends, then closes them and returns
// nil. It does not fail: without a uevent socket it rescans.
func (w *Watcher) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		w.closeAll()
		w.wg.Wait()
	}()
	src := w.o.Uevents
	if src == nil {
		var err error
		if src, err = uevent.Netlink(); err != nil {
			w.o.Log.Warn("evdev: no uevents; finding touch devices by rescanning", "every", w.o.Rescan, "err", err)
		}
	}
	uevents, lost := make(chan uevent.Event), make(chan struct{}, 1)
	if src != nil {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			defer src.Close()
			w.follow(ctx, src, uevents, lost)
		}()
	}
	w.scan(ctx)
	w.changed()
	t := time.NewTicker(w.o.Rescan)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case u := <-uevents:
			w.uevent(ctx, u)
		case <-lost:
			w.o.Log.Warn("evdev: uevents lost; rescanning")
			w.scan(ctx)
		case <-t.C:
			w.scan(ctx)
		}
	}
}

// follow hands uevents to Run until ctx ends or the source breaks (the
// periodic rescan then still finds devices).
func (w *Watcher) follow(ctx context.Context, src uevent.Source, out chan<- uevent.Event, lost chan<- struct{}) {
	for {
		u, err := src.Next(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, uevent.ErrOverflow):
			select {
			case lost <- struct{}{}:
			default:
			}
			continue
		case err != nil:
			w.o.Log.Warn("evdev: uevents ended; finding touch devices by rescanning", "every", w.o.Rescan, "err", err)
			return
		}
		select {
		case out <- u:
		case <-ctx.Done():
			return
		}
	}
}

// scan attaches every touch device in sysfs not attached yet.
func (w *Watcher) scan(ctx context.Context) {
	found, err := Scan(w.o.SysRoot, w.o.DevRoot)
	if err != nil {
		w.o.Log.Warn("evdev: scan failed", "err", err)
	}
	for _, f := range found {
		w.attach(ctx, f)
	}
}

// uevent attaches touch devices plugged in and drops those unplugged
// (their reads fail with ENODEV in any case).
func (w *Watcher) uevent(ctx context.Context, u uevent.Event) {
	if u.Subsystem != "input" || !strings.HasPrefix(u.DevName, "input/event") {
		return
	}
	path := filepath.Join(w.o.SysRoot, u.DevPath)
	switch u.Action {
	case "add":
		f, err := Probe(path, w.o.DevRoot)
		if err != nil {
			if !errors.Is(err, ErrNotTouch) {
				w.o.Log.Warn("evdev: probe failed", "device", path, "err", err)
			}
			return
		}
		w.attach(ctx, f)
	case "remove":
		node := filepath.Join(w.o.DevRoot, u.DevName)
		w.mu.Lock()
		t := w.devs[node]
		if t != nil && t.found.SysPath == path {
			delete(w.devs, node)
		} else {
			t = nil
		}
		w.mu.Unlock()
		delete(w.failed, node)
		if t != nil {
			t.dev.Close() // its reader sends the cancel and stops
			w.o.Log.Info("evdev: touch device removed", "device", node, "name", t.found.Name)
			w.changed()
		}
	}
}

// attach opens f and starts reading it, unless it is read already. A
// device node now belonging to another device (unplugged, and the next
// one given the same number) replaces the old one.
func (w *Watcher) attach(ctx context.Context, f Found) {
	w.mu.Lock()
	old := w.devs[f.DevNode]
	if old != nil && old.found.SysPath == f.SysPath {
		w.mu.Unlock()
		return
	}
	delete(w.devs, f.DevNode)
	w.mu.Unlock()
	if old != nil {
		old.dev.Close()
	}
	dev, err := w.o.Open(f)
	if err != nil {
		if w.failed[f.DevNode] != f.SysPath {
			w.o.Log.Warn("evdev: touch device cannot be opened", "device", f.DevNode, "name", f.Name, "err", err)
			w.failed[f.DevNode] = f.SysPath
		}
		return
	}
	delete(w.failed, f.DevNode)
	info := dev.Info()
	cal := Calibration{X: info.X, Y: info.Y}
	if c := w.o.Calibration; c != nil {
		if c.X.Max > c.X.Min {
			cal.X = c.X
		}
		if c.Y.Max > c.Y.Min {
			cal.Y = c.Y
		}
		cal.SwapXY, cal.InvertX, cal.InvertY = c.SwapXY, c.InvertX, c.InvertY
	}
	dec := NewDecoder(cal, w.o.Size.X, w.o.Size.Y)
	dec.Seed(info.PosX, info.PosY, info.Slot)
	t := &touch{found: f, dev: dev}
	w.mu.Lock()
	w.nextID++
	dec.Pointer = w.nextID
	w.devs[f.DevNode] = t
	w.mu.Unlock()
	w.o.Log.Info("evdev: touch device attached", "device", f.DevNode, "name", f.Name,
		"x_min", cal.X.Min, "x_max", cal.X.Max, "y_min", cal.Y.Min, "y_max", cal.Y.Max, "screen", w.o.Size.String())
	w.wg.Add(1)
	go w.read(ctx, t, dec)
	w.changed()
}

// read decodes one device's events until it fails (ENODEV: unplugged) or
// is closed, then cancels a touch in progress and forgets the device.
func (w *Watcher) read(ctx context.Context, t *touch, dec *Decoder) {
	defer w.wg.Done()
	buf := make([]byte, EventSize*64)
	have := 0
	var err error
	for err == nil {
		var n int
		n, err = t.dev.Read(buf[have:])
		have += n
		i := 0
		for ; i+EventSize <= have; i += EventSize {
			for _, ev := range dec.Decode(buf[i : i+EventSize]) {
				w.o.Send(ev)
			}
		}
		have = copy(buf, buf[i:have])
	}
	for _, ev := range dec.Cancel() {
		w.o.Send(ev)
	}
	t.dev.Close()
	w.mu.Lock()
	mine := w.devs[t.found.DevNode] == t
	if mine {
		delete(w.devs, t.found.DevNode)
	}
	w.mu.Unlock()
	if !mine || ctx.Err() != nil {
		return // removed by a uevent or replaced, or everything stops
	}
	switch {
	case errors.Is(err, syscall.ENODEV) || errors.Is(err, io.EOF):
		w.o.Log.Info("evdev: touch device gone", "device", t.found.DevNode, "name", t.found.Name)
	default:
		w.o.Log.Warn("evdev: touch device failed", "device", t.found.DevNode, "name", t.found.Name, "err", err)
	}
	w.changed()
}

func (w *Watcher) closeAll() {
	w.mu.Lock()
	devs := w.devs
	w.devs = make(map[string]*touch)
	w.mu.Unlock()
	for _, t := range devs {
		t.dev.Close()
	}
}

// changed tells Changed the devices in use now.
func (w *Watcher) changed() {
	if w.o.Changed == nil {
		return
	}
	w.notify.Lock()
	defer w.notify.Unlock()
	w.o.Changed(w.Devices())
}
