// Package alsa plays PCM through the Linux kernel's ALSA interface in pure
// Go: the ioctls of /dev/snd/pcmC<card>D<device>p (hardware and software
// parameters, prepare, interleaved writes, drop, drain), with no alsa-lib,
// so it works in the static binaries of the gokrazy appliance. It opens
// the hardware device itself, so it takes a format the card supports
// (16-bit, the rate and channel count nearest what was asked) and the
// caller converts (sound.Convert).
package alsa

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nhikiosk/nhikiosk/sound"
)

// Conn is an open PCM device node: the ioctls this package uses. The real
// one is the file; tests give a fake kernel.
type Conn interface {
	// Ioctl performs req with arg pointing at the request's structure
	// (nil for requests without one).
	Ioctl(req uintptr, arg unsafe.Pointer) error
	Close() error
}

// Options choose the device and its timing. The zero value opens the
// first headphone-capable card of the real system at 48 kHz.
type Options struct {
	// Card is a card's number ("1") or its ALSA id (/proc/asound/cards:
	// "Headphones" on a Raspberry Pi 4, "Device" for many USB adapters).
	// Empty picks the Pi's headphone jack, else the first USB card, else
	// the first card that is not HDMI (a display's speakers must never
	// speak a person's data).
	Card string
	// Device is the PCM device number on the card (0 for nearly all).
	Device int
	// Rate and Channels are what the caller prefers (48000 and 2 if 0);
	// the device's nearest are taken.
	Rate, Channels int
	// PeriodFrames is how many frames the device takes at a time (about
	// 10 ms if 0): speech starts once one period is queued. Periods is how
	// many the buffer holds (10 if 0): room against a busy CPU, at no cost
	// to an interruption, which drops the buffer at once.
	PeriodFrames, Periods int
	// SysRoot and DevRoot are where sysfs and the device nodes are; empty
	// means "/sys" and "/dev".
	SysRoot, DevRoot string
	// Open opens a PCM node; nil opens the file.
	Open func(path string) (Conn, error)
	// Log receives a line when the device is opened; nil discards.
	Log *slog.Logger
}

// pcm is an open playback stream.
type pcm struct {
	c      Conn
	format sound.Format
	period int // frames
	buffer int // frames
	path   string
}

// Open finds the card, opens its playback PCM and sets its parameters.
// ErrNoDevice (wrapped) means there is no such card.
func Open(o Options) (sound.Device, error) {
	if o.SysRoot == "" {
		o.SysRoot = "/sys"
	}
	if o.DevRoot == "" {
		o.DevRoot = "/dev"
	}
	if o.Open == nil {
		o.Open = openFile
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	card, id, err := findCard(o.SysRoot, o.DevRoot, o.Card)
	if err != nil {
		return nil, err
	}
	if err := setMixer(o, card); err != nil {
		// The stream may still be heard (many cards start unmuted).
		o.Log.Warn("sound mixer not set", "card", id, "err", err)
	}
	path := filepath.Join(o.DevRoot, "snd", fmt.Sprintf("pcmC%dD%dp", card, o.Device))
	c, err := o.Open(path)
	if err != nil {
		return nil, fmt.Errorf("alsa: open %s: %w", path, err)
	}
	p := &pcm{c: c, path: path}
	if err := p.setup(o); err != nil {
		c.Close()
		return nil, fmt.Errorf("alsa: set up %s (%s): %w", path, id, err)
	}
	o.Log.Info("sound device", "card", id, "path", path, "rate", p.format.Rate,
		"channels", p.format.Channels, "period_frames", p.period, "buffer_frames", p.buffer)
	return p, nil
}

func (p *pcm) setup(o Options) error {
	var version int32
	if err := p.c.Ioctl(ioctlPVersion, unsafe.Pointer(&version)); err != nil {
		return fmt.Errorf("protocol version: %w", err)
	}
	rate, channels := cmp(o.Rate, 48000), cmp(o.Channels, 2)
	var hw hwParams
	hw.any()
	if err := p.refine(&hw); err != nil {
		return fmt.Errorf("refine: %w", err)
	}
	if !hw.hasMask(paramAccess, accessRWInterleaved) || !hw.hasMask(paramFormat, formatS16LE) {
		return errors.New("the device does not take interleaved 16-bit samples")
	}
	hw.setMask(paramAccess, accessRWInterleaved)
	hw.setMask(paramFormat, formatS16LE)
	hw.setMask(paramSubformat, subformatStd)
	steps := []struct {
		k    int
		want uint32
	}{
		{paramChannels, uint32(channels)},
		{paramRate, uint32(rate)},
		{paramPeriodSize, uint32(cmp(o.PeriodFrames, rate/100))},
		{paramPeriods, uint32(cmp(o.Periods, 10))},
	}
	for _, s := range steps {
		if err := p.refine(&hw); err != nil {
			return fmt.Errorf("refine: %w", err)
		}
		lo, hi, empty := hw.interval(s.k)
		if empty {
			return fmt.Errorf("no value of parameter %d fits", s.k)
		}
		hw.setValue(s.k, nearest(s.want, lo, hi))
	}
	if err := p.c.Ioctl(ioctlHwParams, unsafe.Pointer(&hw)); err != nil {
		return fmt.Errorf("hardware parameters: %w", err)
	}
	p.format = sound.Format{Rate: int(hw.value(paramRate)), Channels: int(hw.value(paramChannels))}
	p.period, p.buffer = int(hw.value(paramPeriodSize)), int(hw.value(paramBufferSize))
	sw := newSwParams(uint64(p.period), uint64(p.period), uint64(p.buffer), uint32(version))
	if err := p.c.Ioctl(ioctlSwParams, unsafe.Pointer(sw)); err != nil {
		return fmt.Errorf("software parameters: %w", err)
	}
	return p.prepare()
}

func cmp(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func (p *pcm) refine(hw *hwParams) error {
	return p.c.Ioctl(ioctlHwRefine, unsafe.Pointer(hw))
}

func (p *pcm) prepare() error {
	if err := p.c.Ioctl(ioctlPrepare, nil); err != nil {
		return fmt.Errorf("alsa: prepare: %w", err)
	}
	return nil
}

// Format returns the format the device was set to.
func (p *pcm) Format() sound.Format { return p.format }

// xferi is struct snd_xferi.
type xferi struct {
	result int64
	buf    unsafe.Pointer
	frames uint64
}

// Write queues frames, one period at a time so a Drop between calls is
// heard at once. An underrun (the stream stopped because nothing was
// queued in time, EPIPE) or a resume after suspend (ESTRPIPE) prepares
// the stream again and goes on.
func (p *pcm) Write(frames []int16) (int, error) {
	ch := p.format.Channels
	total := len(frames) / ch
	done := 0
	for done < total {
		n := min(total-done, p.period)
		x := xferi{buf: unsafe.Pointer(&frames[done*ch]), frames: uint64(n)}
		err := p.c.Ioctl(ioctlWriteI, unsafe.Pointer(&x))
		switch {
		case errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ESTRPIPE):
			if err := p.prepare(); err != nil {
				return done, err
			}
			continue
		case errors.Is(err, syscall.EINTR), errors.Is(err, syscall.EAGAIN):
			continue
		case err != nil:
			return done, fmt.Errorf("alsa: write: %w", err)
		}
		done += int(x.result)
	}
	return done, nil
}

// Drop stops the stream at once, discarding what is queued, and prepares
// it for the next Write.
func (p *pcm) Drop() error {
	if err := p.c.Ioctl(ioctlDrop, nil); err != nil {
		return fmt.Errorf("alsa: drop: %w", err)
	}
	return p.prepare()
}

// Drain waits until what is queued was played, and prepares the stream
// for the next Write.
func (p *pcm) Drain() error {
	err := p.c.Ioctl(ioctlDrain, nil)
	if err != nil && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.EBADFD) {
		return fmt.Errorf("alsa: drain: %w", err)
	}
	return p.prepare()
}

// Close closes the device.
func (p *pcm) Close() error { return p.c.Close() }

type fileConn struct{ fd int }

func openFile(path string) (Conn, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return &fileConn{fd: fd}, nil
}

func (f *fileConn) Ioctl(req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(f.fd), req, uintptr(arg))
		switch e {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return e
	}
}

func (f *fileConn) Close() error { return unix.Close(f.fd) }
