package speech

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/sound"
)

// Options configure a Speaker. Open and Library are required.
type Options struct {
	// Open opens the headphone output; it is called when there is
	// something to say and no device is open (again after an error: a USB
	// adapter plugged in later is found then).
	Open func() (sound.Device, error)
	// Library holds the clips; Renderer turns messages into clips.
	Library  *Library
	Renderer *Renderer
	// Volume at start (sound.Volume; 0 is taken as 80).
	Volume sound.Volume
	// Log gets device errors, never what is said; nil discards.
	Log *slog.Logger
}

// Speaker says messages on the headphones: one utterance at a time, the
// next one cutting the current one off at once. Its methods are safe for
// concurrent use and never block on the sound device.
type Speaker struct {
	o Options

	mu      sync.Mutex
	gen     int // bumped by every Say and Stop
	pending []Clip
	volume  sound.Volume
	wake    chan struct{}
	// started records when the first samples of each utterance were
	// handed to the device, for Latency.
	said    time.Time
	latency time.Duration
}

// NewSpeaker returns a speaker; Run plays what it is told to say.
func NewSpeaker(o Options) *Speaker {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Volume == 0 {
		o.Volume = 80
	}
	return &Speaker{o: o, volume: o.Volume.Clamp(), wake: make(chan struct{}, 1)}
}

// Say replaces what is being said with msgs in lang.
func (s *Speaker) Say(lang string, msgs ...display.Msg) {
	clips := s.o.Renderer.Render(lang, msgs...)
	s.mu.Lock()
	s.gen++
	s.pending = clips
	s.said = time.Now()
	s.mu.Unlock()
	s.poke()
}

// Stop silences the speaker at once.
func (s *Speaker) Stop() {
	s.mu.Lock()
	s.gen++
	s.pending = nil
	s.mu.Unlock()
	s.poke()
}

// SetVolume changes the volume (0–100) from the next 20 ms on.
func (s *Speaker) SetVolume(v sound.Volume) {
	s.mu.Lock()
	s.volume = v.Clamp()
	s.mu.Unlock()
}

// Volume returns the volume.
func (s *Speaker) Volume() sound.Volume {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.volume
}

// Latency returns the time from the last Say to its first samples
// reaching the device.
func (s *Speaker) Latency() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency
}

func (s *Speaker) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run plays utterances until ctx ends, then closes the device.
func (s *Speaker) Run(ctx context.Context) error {
	var dev sound.Device
	defer func() {
		if dev != nil {
			dev.Close()
		}
	}()
	played := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		}
		s.mu.Lock()
		gen, clips := s.gen, s.pending
		s.pending = nil
		s.mu.Unlock()
		if dev != nil && played > 0 {
			// Whatever is still queued belongs to what was cut off.
			if err := dev.Drop(); err != nil {
				s.o.Log.Warn("speech: drop", "err", err)
			}
			played = 0
		}
		if len(clips) == 0 {
			continue
		}
		if dev == nil {
			d, err := s.o.Open()
			if err != nil {
				s.o.Log.Warn("speech: no headphone output", "err", err)
				continue
			}
			dev = d
		}
		n, err := s.play(dev, gen, clips)
		played += n
		if err != nil {
			s.o.Log.Warn("speech: device failed; opening it again next time", "err", err)
			dev.Close()
			dev, played = nil, 0
		}
	}
}

// current reports whether gen is still what should be said.
func (s *Speaker) current(gen int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen == gen
}

// decodeRate is the rate clips are decoded at: the device's, when Opus
// decodes to it, else 48 kHz converted.
func decodeRate(f sound.Format) int {
	switch f.Rate {
	case 8000, 12000, 16000, 24000, 48000:
		return f.Rate
	}
	return 48000
}

// play writes clips to dev until they end or gen is no longer current,
// and returns how many frames it wrote.
func (s *Speaker) play(dev sound.Device, gen int, clips []Clip) (int, error) {
	f := dev.Format()
	rate := decodeRate(f)
	var buf []int16
	frames := 0
	var werr error
	for i, c := range clips {
		if !s.o.Library.Has(c) {
			continue // the freshness test keeps this from happening
		}
		err := s.o.Library.Stream(c, rate, func(pcm []int16) bool {
			if !s.current(gen) {
				return false
			}
			s.mu.Lock()
			gain := s.volume.Gain()
			s.mu.Unlock()
			buf = sound.Convert(buf, pcm, rate, f, gain)
			n, err := dev.Write(buf)
			if frames == 0 {
				s.mu.Lock()
				s.latency = time.Since(s.said)
				s.mu.Unlock()
			}
			frames += n
			werr = err
			return err == nil
		})
		if werr != nil {
			return frames, fmt.Errorf("speech: write: %w", werr)
		}
		if err != nil {
			// A piece's id names a character of a value, maybe a
			// person's: only a message's id is logged.
			id := c.ID
			if isPiece(c) {
				id = "(a value's piece)"
			}
			s.o.Log.Warn("speech: clip unreadable", "lang", c.Lang, "clip", id, "err", err)
		}
		if !s.current(gen) {
			return frames, nil
		}
		if i < len(clips)-1 && isPiece(c) {
			// A short pause between spelled characters, so "A 1 2" is not
			// run together.
			buf = silence(buf, f, 60)
			n, _ := dev.Write(buf)
			frames += n
		}
	}
	return frames, nil
}

func isPiece(c Clip) bool { return len(c.ID) > 0 && c.ID[0] == '_' }

func silence(buf []int16, f sound.Format, ms int) []int16 {
	n := f.Rate * ms / 1000 * f.Channels
	if cap(buf) < n {
		buf = make([]int16, n)
	}
	buf = buf[:n]
	clear(buf)
	return buf
}
