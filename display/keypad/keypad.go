// Package keypad reads the tactile keys of audio mode (issue 20) from any
// evdev device that has them (a USB numeric keypad, a keyboard, an
// EZ Access-style key module) and the headphone jack switch that sound
// cards with jack detection report (SW_HEADPHONE_INSERT), in pure Go.
// Devices are found at start and again every few seconds, so a keypad
// plugged in later works. It does not read touch screens (display/fbdev
// does) and decides nothing about what a key means beyond its name.
package keypad

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nhikiosk/nhikiosk/display"
)

// Event codes of linux/input-event-codes.h.
const (
	evKey = 0x01
	evSw  = 0x05

	swHeadphoneInsert = 0x02
)

// keys maps evdev key codes to the tactile keys: arrows and the keypad's
// 8/2 move, Enter, the keypad's Enter and 5, OK and Select select, Escape,
// Backspace, Back and the left arrow go back, Help, F1 and the keypad's
// "*" are help, volume keys and the keypad's +/- change the volume.
var keys = map[uint16]display.Key{
	103: display.KeyUp, 72: display.KeyUp, // KEY_UP, KEY_KP8
	108: display.KeyDown, 80: display.KeyDown, // KEY_DOWN, KEY_KP2
	28: display.KeySelect, 96: display.KeySelect, 76: display.KeySelect, // KEY_ENTER, KEY_KPENTER, KEY_KP5
	352: display.KeySelect, 353: display.KeySelect, // KEY_OK, KEY_SELECT
	1: display.KeyBack, 14: display.KeyBack, 158: display.KeyBack, 105: display.KeyBack, // KEY_ESC, KEY_BACKSPACE, KEY_BACK, KEY_LEFT
	138: display.KeyHelp, 59: display.KeyHelp, 55: display.KeyHelp, // KEY_HELP, KEY_F1, KEY_KPASTERISK
	115: display.KeyVolumeUp, 78: display.KeyVolumeUp, // KEY_VOLUMEUP, KEY_KPPLUS
	114: display.KeyVolumeDown, 74: display.KeyVolumeDown, // KEY_VOLUMEDOWN, KEY_KPMINUS
}

// HoldTime is how long the help key is held to start audio mode.
const HoldTime = 2 * time.Second

// EventSize is the size of struct input_event: a timeval of two C longs,
// then type, code (u16) and value (s32).
const EventSize = 2*int(unsafe.Sizeof(uintptr(0))) + 8

// Device is an open evdev node.
type Device interface {
	io.ReadCloser
	// Capable reports whether it has any tactile key or the headphone
	// switch, and whether headphones are in now.
	Capable() (keys, jack, jackIn bool)
}

// Options say where devices are and where events go. The zero value reads
// the real /dev/input.
type Options struct {
	// DevRoot is where the device nodes are ("/dev" if empty).
	DevRoot string
	// Open opens a node; nil opens the file and asks the kernel its
	// capabilities (EVIOCGBIT, EVIOCGSW).
	Open func(path string) (Device, error)
	// Rescan is how often new devices are looked for (3 s if 0).
	Rescan time.Duration
	// Hold is how long help is held to count as held (HoldTime if 0).
	Hold time.Duration
	// Key receives each tactile key: on press, and for help on release
	// or, held HoldTime, once with Hold set.
	Key func(display.Event)
	// Jack receives the headphone switch: at start if headphones are in,
	// then on every change.
	Jack func(in bool)
	Log  *slog.Logger
}

// Run reads every capable device until ctx ends.
func Run(ctx context.Context, o Options) error {
	if o.DevRoot == "" {
		o.DevRoot = "/dev"
	}
	if o.Open == nil {
		o.Open = openFile
	}
	if o.Rescan == 0 {
		o.Rescan = 3 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Hold == 0 {
		o.Hold = HoldTime
	}
	var mu sync.Mutex
	open := map[string]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(o.Rescan)
	defer t.Stop()
	for {
		paths, _ := filepath.Glob(filepath.Join(o.DevRoot, "input", "event*"))
		mu.Lock()
		for p := range open {
			if !slices.Contains(paths, p) {
				delete(open, p) // gone: a new device may take its name
			}
		}
		mu.Unlock()
		for _, p := range paths {
			mu.Lock()
			seen := open[p]
			mu.Unlock()
			if seen {
				continue
			}
			d, err := o.Open(p)
			if err != nil {
				continue
			}
			k, jack, in := d.Capable()
			if !k && !jack {
				d.Close()
				mu.Lock()
				open[p] = true // not ours; look again only if it comes back
				mu.Unlock()
				continue
			}
			o.Log.Info("tactile keys", "device", p, "keys", k, "headphone_jack", jack)
			if jack && in && o.Jack != nil {
				o.Jack(true)
			}
			mu.Lock()
			open[p] = true
			mu.Unlock()
			wg.Go(func() {
				read(ctx, d, o)
				o.Log.Info("tactile keys gone", "device", p)
				mu.Lock()
				delete(open, p)
				mu.Unlock()
			})
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// read decodes one device's events until it fails or ctx ends.
func read(ctx context.Context, d Device, o Options) {
	stop := context.AfterFunc(ctx, func() { d.Close() })
	defer stop()
	defer d.Close()
	h := &Decoder{o: o}
	buf := make([]byte, EventSize*16)
	for {
		n, err := d.Read(buf)
		for i := 0; i+EventSize <= n; i += EventSize {
			h.Decode(buf[i : i+EventSize])
		}
		if err != nil {
			h.release()
			return
		}
	}
}

// Decoder turns one device's raw events into keys and jack changes,
// timing the help key. Decode takes events in order from one goroutine.
type Decoder struct {
	o     Options
	mu    sync.Mutex
	timer *time.Timer
	held  bool
}

// NewDecoder returns a decoder reporting to o.Key and o.Jack.
func NewDecoder(o Options) *Decoder {
	if o.Hold == 0 {
		o.Hold = HoldTime
	}
	return &Decoder{o: o}
}

// Decode takes one struct input_event (EventSize bytes, little endian);
// anything else is ignored.
func (h *Decoder) Decode(raw []byte) {
	if len(raw) < EventSize {
		return
	}
	off := EventSize - 8
	typ := binary.LittleEndian.Uint16(raw[off:])
	code := binary.LittleEndian.Uint16(raw[off+2:])
	val := int32(binary.LittleEndian.Uint32(raw[off+4:]))
	switch typ {
	case evSw:
		if code == swHeadphoneInsert && h.o.Jack != nil {
			h.o.Jack(val != 0)
		}
	case evKey:
		k, ok := keys[code]
		if !ok || h.o.Key == nil {
			return
		}
		switch {
		case k == display.KeyHelp && val == 1:
			h.press()
		case k == display.KeyHelp && val == 0:
			h.up()
		case val == 1:
			h.o.Key(display.Event{Kind: display.KeyPress, Key: k})
		}
	}
}

func (h *Decoder) press() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held = false
	if h.timer != nil {
		h.timer.Stop()
	}
	h.timer = time.AfterFunc(h.o.Hold, func() {
		h.mu.Lock()
		h.held = true
		h.mu.Unlock()
		h.o.Key(display.Event{Kind: display.KeyPress, Key: display.KeyHelp, Hold: true})
	})
}

func (h *Decoder) up() {
	h.mu.Lock()
	t, held := h.timer, h.held
	h.timer, h.held = nil, false
	h.mu.Unlock()
	if t == nil {
		return
	}
	if t.Stop() && !held {
		h.o.Key(display.Event{Kind: display.KeyPress, Key: display.KeyHelp})
	}
}

// release forgets a help key being held (its device went away).
func (h *Decoder) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.timer != nil {
		h.timer.Stop()
		h.timer = nil
	}
}

type file struct {
	*os.File
}

func openFile(path string) (Device, error) {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	return file{f}, nil
}

// eviocgbit is EVIOCGBIT(ev, n): _IOC(_IOC_READ, 'E', 0x20+ev, n).
func eviocgbit(ev, n uintptr) uintptr { return 2<<30 | n<<16 | 'E'<<8 | (0x20 + ev) }

// eviocgsw is EVIOCGSW(n): _IOC(_IOC_READ, 'E', 0x1b, n).
func eviocgsw(n uintptr) uintptr { return 2<<30 | n<<16 | 'E'<<8 | 0x1b }

func (f file) Capable() (k, jack, in bool) {
	var kb [96]byte // KEY_MAX 0x2ff bits
	if f.ioctl(eviocgbit(evKey, uintptr(len(kb))), unsafe.Pointer(&kb)) == nil {
		for code := range keys {
			if kb[code/8]&(1<<(code%8)) != 0 {
				k = true
			}
		}
	}
	var sb, state [4]byte // SW_MAX 0x10 bits
	if f.ioctl(eviocgbit(evSw, uintptr(len(sb))), unsafe.Pointer(&sb)) == nil {
		jack = sb[0]&(1<<swHeadphoneInsert) != 0
	}
	if jack && f.ioctl(eviocgsw(uintptr(len(state))), unsafe.Pointer(&state)) == nil {
		in = state[0]&(1<<swHeadphoneInsert) != 0
	}
	return k, jack, in
}

func (f file) ioctl(req uintptr, arg unsafe.Pointer) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var e unix.Errno
	if err := sc.Control(func(fd uintptr) {
		_, _, e = unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(arg))
	}); err != nil {
		return err
	}
	if e != 0 {
		return e
	}
	return nil
}
