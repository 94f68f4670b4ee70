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
	// Size is the framebuffer's size in pixels (the panel's): each
	// device's axis ranges are mapped onto it.
	Size image.Point
	// Rotation is how the frame is turned on the panel (a panel mounted
	// rotated): touches are mapped back to the frame's pixels, of size
	// Rotation.Size(Size).
	Rotation display.Rotation
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
	// Log receives one line per device attached, detached or failing
	// (a device failing again and again is logged once); nil is
	// slog.Default().
	Log *slog.Logger
	// Now is the clock the backoff of failing devices is measured on;
	// nil is time.Now.
	Now func() time.Time
}

// maxFailWait bounds the backoff between tries of a device that cannot
// be opened or whose reads fail.
const maxFailWait = 5 * time.Minute

// Watcher finds touch devices and keeps reading every one of them as
// they come and go: at start (a sysfs scan), on kernel uevents (add,
// remove), on a periodic rescan, and when a read fails with ENODEV.
//
// A device that cannot be opened, or whose reads fail with another error
// (EIO from a panel whose controller hangs), is logged once, counted as
// missing, and tried again on the rescans after a backoff (the rescan
// interval, doubling up to 5 min); opened again it stays out of Devices
// and Changed until a read returns events, so it does not flap.
type Watcher struct {
	o Options

	mu     sync.Mutex
	devs   map[string]*touch   // by device node
	failed map[string]*failure // by device node
	nextID int
	wg     sync.WaitGroup

	notify sync.Mutex // one Changed call at a time
}

// touch is one opened device.
type touch struct {
	found Found
	dev   Device
	// quiet: opened again after failing, and not counted until a read
	// returns events (under Watcher.mu).
	quiet bool
}

// failure is a device that could not be opened or whose reads failed.
type failure struct {
	sysPath string
	until   time.Time     // not tried again before
	wait    time.Duration // the backoff after the next failure
	// read: its reads failed (not only its opening), so opened again it
	// is quiet until it reads.
	read bool
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
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Watcher{o: o, devs: make(map[string]*touch), failed: make(map[string]*failure)}
}

// Devices returns the touch devices in use, by node.
func (w *Watcher) Devices() []Found {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Found, 0, len(w.devs))
	for _, t := range w.devs {
		if !t.quiet {
			out = append(out, t.found)
		}
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
		w.mu.Lock()
		delete(w.failed, filepath.Join(w.o.DevRoot, u.DevName)) // a new device: no backoff
		w.mu.Unlock()
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
		delete(w.failed, node)
		quiet := t != nil && t.quiet
		w.mu.Unlock()
		if t != nil {
			t.dev.Close() // its reader sends the cancel and stops
			w.o.Log.Info("evdev: touch device removed", "device", node, "name", t.found.Name)
			if !quiet {
				w.changed()
			}
		}
	}
}

// attach opens f and starts reading it, unless it is read already or
// failed and its backoff has not passed. A device node now belonging to
// another device (unplugged, and the next one given the same number)
// replaces the old one.
func (w *Watcher) attach(ctx context.Context, f Found) {
	w.mu.Lock()
	old := w.devs[f.DevNode]
	if old != nil && old.found.SysPath == f.SysPath {
		w.mu.Unlock()
		return
	}
	oldListed := old != nil && !old.quiet // Changed must hear it go
	fl := w.failed[f.DevNode]
	if fl != nil && fl.sysPath != f.SysPath {
		delete(w.failed, f.DevNode) // another device now
		fl = nil
	}
	if fl != nil && w.o.Now().Before(fl.until) {
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
		w.fail(f, false, err)
		if oldListed {
			w.changed()
		}
		return
	}
	info := dev.Info()
	cal := w.calibration(info)
	dec := NewDecoder(cal, w.o.Size.X, w.o.Size.Y)
	dec.Seed(info.PosX, info.PosY, info.Slot)
	quiet := fl != nil && fl.read
	t := &touch{found: f, dev: dev, quiet: quiet}
	w.mu.Lock()
	if fl != nil && !fl.read && w.failed[f.DevNode] == fl {
		delete(w.failed, f.DevNode) // it opens now: the failure is over
	}
	w.nextID++
	dec.Pointer = w.nextID
	w.devs[f.DevNode] = t
	w.mu.Unlock()
	if !quiet {
		w.o.Log.Info("evdev: touch device attached", "device", f.DevNode, "name", f.Name,
			"x_min", cal.X.Min, "x_max", cal.X.Max, "y_min", cal.Y.Min, "y_max", cal.Y.Max, "screen", w.o.Size.String(),
			"rotation", int(cal.Rotation))
	}
	w.wg.Add(1)
	go w.read(ctx, t, dec, quiet)
	if !quiet || oldListed {
		w.changed()
	}
}

// calibration is a device's own ranges, overridden by Options.Calibration.
func (w *Watcher) calibration(info Info) Calibration {
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
	cal.Rotation = w.o.Rotation
	return cal
}

// fail notes that f could not be opened (read false) or read: logged
// the first time only, then tried again after a backoff that doubles
// each time.
func (w *Watcher) fail(f Found, read bool, err error) {
	w.mu.Lock()
	fl := w.failed[f.DevNode]
	first := fl == nil || fl.sysPath != f.SysPath
	if first {
		fl = &failure{sysPath: f.SysPath, wait: w.o.Rescan}
		w.failed[f.DevNode] = fl
	}
	fl.read = fl.read || read
	fl.until = w.o.Now().Add(fl.wait)
	fl.wait = min(2*fl.wait, max(maxFailWait, w.o.Rescan))
	w.mu.Unlock()
	msg := "evdev: touch device cannot be opened"
	if read {
		msg = "evdev: touch device failed"
	}
	if first {
		w.o.Log.Warn(msg, "device", f.DevNode, "name", f.Name, "err", err,
			"retry", "with backoff; counted as missing until it reads again")
	}
}

// read decodes one device's events until it fails (ENODEV: unplugged) or
// is closed, then cancels a touch in progress and forgets the device. A
// device opened again after failing counts once a read returns events.
func (w *Watcher) read(ctx context.Context, t *touch, dec *Decoder, quiet bool) {
	defer w.wg.Done()
	buf := make([]byte, EventSize*64)
	have := 0
	var err error
	for err == nil {
		var n int
		n, err = t.dev.Read(buf[have:])
		if n > 0 && quiet {
			quiet = w.recovered(t)
		}
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
	w.mu.Lock()
	mine := w.devs[t.found.DevNode] == t
	if mine {
		delete(w.devs, t.found.DevNode)
	}
	quiet = t.quiet
	w.mu.Unlock()
	if !mine || ctx.Err() != nil {
		t.dev.Close()
		return // removed by a uevent or replaced, or everything stops
	}
	switch {
	case errors.Is(err, syscall.ENODEV) || errors.Is(err, io.EOF):
		w.mu.Lock()
		delete(w.failed, t.found.DevNode)
		w.mu.Unlock()
		w.o.Log.Info("evdev: touch device gone", "device", t.found.DevNode, "name", t.found.Name)
	default:
		w.fail(t.found, true, err)
	}
	t.dev.Close() // after the failure is noted: a rescan now backs off
	if !quiet {
		w.changed()
	}
}

// recovered counts t again: it failed before, and now reads. It returns
// t's quiet flag afterwards (false).
func (w *Watcher) recovered(t *touch) bool {
	w.mu.Lock()
	if w.devs[t.found.DevNode] != t {
		w.mu.Unlock()
		return true // replaced or removed meanwhile
	}
	t.quiet = false
	delete(w.failed, t.found.DevNode)
	w.mu.Unlock()
	w.o.Log.Info("evdev: touch device reads again", "device", t.found.DevNode, "name", t.found.Name)
	w.changed()
	return false
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
