// Package sound owns the kiosk's audio output: 16-bit PCM frames played on
// a device (the Raspberry Pi's headphone jack, a USB audio adapter, a
// desktop's sound server), with a software volume. Speech is the only
// thing it plays, and it goes to headphones only: a Device is opened on the
// output configured as the headphone output, never on the display's
// speakers (issue 20).
//
// Backends: sound/alsa (pure Go, /dev/snd ioctls, the appliance) and
// sound/soundtest (a fake that records what was played). The package must
// not know what is said; package speech decides that.
package sound

import (
	"errors"
	"math"
)

// Format is how frames are laid out: interleaved signed 16-bit
// little-endian samples, Channels per frame, Rate frames a second.
type Format struct {
	Rate     int
	Channels int
}

// Device plays PCM. It is used by one goroutine at a time (the speech
// player); Close may be called from another to end a blocked Write.
//
// Write blocks until the frames are queued (at most about one buffer of
// the device ahead of what is heard) and returns how many frames it took.
// Drop discards what is queued at once (speech interrupted), Drain waits
// until everything queued was played. After Drop or Drain the device takes
// Write again.
type Device interface {
	Format() Format
	Write(frames []int16) (int, error)
	Drop() error
	Drain() error
	Close() error
}

// ErrNoDevice is returned when the system has no playback device of the
// kind asked for (no sound card, or none by that name).
var ErrNoDevice = errors.New("sound: no playback device")

// Volume is the loudness of speech in percent of full scale, 0 (silent)
// to 100.
type Volume int

// Clamp returns v within 0–100.
func (v Volume) Clamp() Volume { return min(100, max(0, v)) }

// Gain returns the linear factor of v: 100 % is 1, each 10 % below it
// about 5 dB less, so steps sound even and 10 % is still audible.
func (v Volume) Gain() float64 {
	v = v.Clamp()
	if v == 0 {
		return 0
	}
	return math.Pow(10, -0.5*float64(100-v)/20)
}

// Convert turns mono samples at rate in into frames of format out,
// applying gain: the channel copied into every output channel, the rate
// changed by linear interpolation. dst is reused when it is large enough.
func Convert(dst []int16, mono []int16, in int, out Format, gain float64) []int16 {
	if len(mono) == 0 || in <= 0 || out.Rate <= 0 || out.Channels <= 0 {
		return dst[:0]
	}
	n := int(int64(len(mono)) * int64(out.Rate) / int64(in))
	need := n * out.Channels
	if cap(dst) < need {
		dst = make([]int16, need)
	}
	dst = dst[:need]
	step := float64(in) / float64(out.Rate)
	for i := range n {
		pos := float64(i) * step
		j := int(pos)
		s := float64(mono[min(j, len(mono)-1)])
		if f := pos - float64(j); f > 0 && j+1 < len(mono) {
			s += f * (float64(mono[j+1]) - s)
		}
		v := clamp16(s * gain)
		for c := range out.Channels {
			dst[i*out.Channels+c] = v
		}
	}
	return dst
}

func clamp16(s float64) int16 {
	switch {
	case s > math.MaxInt16:
		return math.MaxInt16
	case s < math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(s))
}
