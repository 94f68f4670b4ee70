// Package fbdev is the display backend for the gokrazy appliance, in pure
// Go: it maps the Linux framebuffer (/dev/fb0, geometry and pixel format
// from the FBIOGET_*SCREENINFO ioctls), converts frames to its pixel
// format (RGB565, XRGB8888 and other packed RGB layouts), reads touches
// from every touch device as they come and go (display/evdev, calibrated
// to the framebuffer), and switches the console to graphics mode
// (KDSETMODE) so kernel messages do not draw over the UI, restoring text
// mode on Close.
//
// It only shows frames and reports touches; it never interprets them.
package fbdev

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/evdev"
)

// Options say which devices to use. Zero values pick the defaults of a
// kiosk.
type Options struct {
	// Device is the framebuffer device, /dev/fb0 if empty.
	Device string
	// Geometry, if set, is used instead of asking the device (for a plain
	// file standing in for the framebuffer in tests).
	Geometry *Geometry
	// Touch says how touch devices are found and followed (its Size and
	// Send are the screen's own); the zero value follows every touch
	// device of the running system as it comes and goes. Its Calibration
	// also applies to TouchStreams.
	Touch evdev.Options
	// NoTouchDevices turns the evdev watcher off (tests that only use
	// TouchStreams).
	NoTouchDevices bool
	// TouchStreams are extra event streams with their calibration (tests,
	// or a touch controller reached another way).
	TouchStreams []TouchStream
	// Console is the tty switched to graphics mode; "" means /dev/tty0,
	// "-" leaves the console alone.
	Console string
	// Rotation turns the frame on a panel mounted rotated (display.rotation):
	// Size is the framebuffer's size turned, Present turns each frame
	// onto the framebuffer, and touches (from devices and TouchStreams)
	// are mapped back onto the frame. 0 leaves the frame as it is.
	Rotation display.Rotation
	Log      *slog.Logger
}

// TouchStream is a source of raw input_event records.
type TouchStream struct {
	R   io.Reader
	Cal evdev.Calibration
}

// Screen is a framebuffer display.Screen. Present and Events may be used
// concurrently; Close ends the touch readers and restores the console.
type Screen struct {
	geo     Geometry
	rot     display.Rotation
	fb      *os.File
	mem     []byte
	mmapped bool
	events  chan display.Event
	console *os.File
	log     *slog.Logger

	touch     *evdev.Watcher // nil without touch devices
	stopTouch context.CancelFunc
	touchDone chan struct{}

	mu     sync.Mutex
	closed bool
}

// Open maps the framebuffer and starts reading touches.
func Open(o Options) (*Screen, error) {
	if o.Device == "" {
		o.Device = "/dev/fb0"
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if !o.Rotation.Valid() {
		return nil, fmt.Errorf("fbdev: rotation %d: want 0, 90, 180 or 270", int(o.Rotation))
	}
	fb, err := os.OpenFile(o.Device, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("fbdev: open framebuffer: %w", err)
	}
	s := &Screen{fb: fb, rot: o.Rotation, events: make(chan display.Event, 64), log: o.Log}
	if err := s.setup(o); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Screen) setup(o Options) error {
	if o.Geometry != nil {
		s.geo = *o.Geometry
	} else {
		g, err := readGeometry(s.fb)
		if err != nil {
			return fmt.Errorf("fbdev: read geometry of %s: %w", o.Device, err)
		}
		s.geo = g
	}
	if err := s.geo.check(); err != nil {
		return fmt.Errorf("fbdev: %s: %w", o.Device, err)
	}
	mem, err := unix.Mmap(int(s.fb.Fd()), 0, s.geo.Size(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("fbdev: map %s: %w", o.Device, err)
	}
	s.mem, s.mmapped = mem, true
	if o.Console != "-" {
		s.graphicsMode(o.Console)
	}
	for i, ts := range o.TouchStreams {
		s.read(ts.R, ts.Cal, o.Touch.Calibration, 1000+i)
	}
	if !o.NoTouchDevices {
		to := o.Touch
		to.Size, to.Rotation = image.Pt(s.geo.Width, s.geo.Height), s.rot
		to.Send = s.send
		if to.Log == nil {
			to.Log = s.log
		}
		s.touch = evdev.NewWatcher(to)
		ctx, cancel := context.WithCancel(context.Background())
		s.stopTouch, s.touchDone = cancel, make(chan struct{})
		go func() {
			defer close(s.touchDone)
			s.touch.Run(ctx)
		}()
	}
	return nil
}

// TouchDevices returns the touch devices in use now.
func (s *Screen) TouchDevices() []evdev.Found {
	if s.touch == nil {
		return nil
	}
	return s.touch.Devices()
}

// graphicsMode stops the kernel console from drawing over the UI.
func (s *Screen) graphicsMode(tty string) {
	if tty == "" {
		tty = "/dev/tty0"
	}
	f, err := os.OpenFile(tty, os.O_RDWR, 0)
	if err == nil {
		err = unix.IoctlSetInt(int(f.Fd()), kdSetMode, kdGraphics)
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		s.log.Warn("fbdev: console stays in text mode", "tty", tty, "err", err)
		return
	}
	s.console = f
}

// read decodes one touch stream until it ends or the screen closes.
func (s *Screen) read(r io.Reader, cal evdev.Calibration, override *evdev.Calibration, pointer int) {
	if override != nil {
		cal = *override
	}
	cal.Rotation = s.rot
	dec := evdev.NewDecoder(cal, s.geo.Width, s.geo.Height)
	dec.Pointer = pointer
	go func() {
		buf := make([]byte, evdev.EventSize*64)
		for {
			n, err := io.ReadAtLeast(r, buf, evdev.EventSize)
			for i := 0; i+evdev.EventSize <= n; i += evdev.EventSize {
				for _, ev := range dec.Decode(buf[i : i+evdev.EventSize]) {
					s.send(ev)
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
					s.log.Warn("fbdev: touch stream ended", "err", err)
				}
				return
			}
		}
	}()
}

func (s *Screen) send(ev display.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.events <- ev:
	default: // the UI is behind; a dropped move is harmless
	}
}

// Geometry returns the framebuffer's geometry.
func (s *Screen) Geometry() Geometry { return s.geo }

// Size returns the size of the frames to present, in pixels: the
// framebuffer's, turned by Options.Rotation.
func (s *Screen) Size() image.Point { return s.rot.Size(image.Pt(s.geo.Width, s.geo.Height)) }

// Present converts the dirty parts of frame into the framebuffer, turned
// by Options.Rotation.
func (s *Screen) Present(frame *image.RGBA, dirty []image.Rectangle) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("fbdev: present: screen closed")
	}
	if len(dirty) == 0 {
		dirty = []image.Rectangle{frame.Rect}
	}
	for _, r := range dirty {
		if s.rot == display.Rotate0 {
			convert(s.mem, s.geo, frame, r)
		} else {
			convertRotated(s.mem, s.geo, frame, r, s.rot)
		}
	}
	return nil
}

// Events returns touches in screen pixels.
func (s *Screen) Events() <-chan display.Event { return s.events }

// Close restores the console to text mode, unmaps the framebuffer, and
// stops the touch readers.
func (s *Screen) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.events)
	s.mu.Unlock()
	if s.stopTouch != nil {
		s.stopTouch()
		<-s.touchDone
	}
	var errs []error
	if s.console != nil {
		errs = append(errs, unix.IoctlSetInt(int(s.console.Fd()), kdSetMode, kdText), s.console.Close())
	}
	if s.mmapped {
		errs = append(errs, unix.Munmap(s.mem))
	}
	errs = append(errs, s.fb.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("fbdev: close: %w", err)
	}
	return nil
}

// Snapshot reads the framebuffer back into an image the way the frame
// was drawn (turned back by Options.Rotation), for screenshots and tests.
func (s *Screen) Snapshot() *image.RGBA {
	s.mu.Lock()
	defer s.mu.Unlock()
	size, panel := s.Size(), image.Pt(s.geo.Width, s.geo.Height)
	img := image.NewRGBA(image.Rectangle{Max: size})
	for y := range size.Y {
		for x := range size.X {
			q := s.rot.ToPanel(image.Pt(x, y), panel)
			r, g, b := decode(s.mem, s.geo, q.X, q.Y)
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = r, g, b, 0xff
		}
	}
	return img
}
