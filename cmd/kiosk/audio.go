package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/keypad"
	"github.com/nhikiosk/nhikiosk/panel"
	"github.com/nhikiosk/nhikiosk/sound"
	"github.com/nhikiosk/nhikiosk/sound/alsa"
	"github.com/nhikiosk/nhikiosk/speech"
	"github.com/nhikiosk/nhikiosk/speech/voice"
)

// kioskAudio is audio mode's outside parts (issue 20): the speaker on the
// headphone output, and the tactile keys of any evdev keypad.
type kioskAudio struct {
	speaker *speech.Speaker
	k       *appliance.Kiosk
	log     *slog.Logger
}

// speakerVoice adapts the speaker to the wizard's Voice.
type speakerVoice struct{ *speech.Speaker }

func (v speakerVoice) SetVolume(p int) { v.Speaker.SetVolume(sound.Volume(p)) }

// newAudio enables audio mode on k with the configured output, or
// returns nil when audio is off.
func newAudio(cfg config.Config, ui *display.UI, k *appliance.Kiosk, log *slog.Logger) (*kioskAudio, error) {
	if cfg.Audio.Backend == config.AudioOff {
		log.Info("audio mode off: audio.backend is off")
		return nil, nil
	}
	lib, err := speech.OpenLibrary(voice.FS)
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	r, err := speech.NewRenderer(ui.Catalog())
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	sp := speech.NewSpeaker(speech.Options{
		Open: func() (sound.Device, error) {
			return alsa.Open(alsa.Options{Card: cfg.Audio.Device, Log: log})
		},
		Library: lib, Renderer: r, Volume: sound.Volume(cfg.Audio.Volume), Log: log,
	})
	k.EnableAudio(speakerVoice{sp}, cfg.Audio.Volume)
	return &kioskAudio{speaker: sp, k: k, log: log}, nil
}

// run plays speech and reads evdev keypads until ctx ends.
func (a *kioskAudio) run(ctx context.Context) error {
	if a == nil {
		return nil
	}
	go keypad.Run(ctx, keypad.Options{Key: a.k.Key, Jack: a.k.Headphones, Log: a.log})
	return a.speaker.Run(ctx)
}

// panelKeys maps the panel's tactile keys to the display's.
var panelKeys = map[panel.Key]display.Key{
	panel.KeyUp: display.KeyUp, panel.KeyDown: display.KeyDown, panel.KeySelect: display.KeySelect,
	panel.KeyBack: display.KeyBack, panel.KeyHelp: display.KeyHelp,
}

// key hands a panel key to the kiosk.
func (a *kioskAudio) key(k panel.Key, held bool) {
	if a == nil {
		return
	}
	a.k.Key(display.Event{Kind: display.KeyPress, Key: panelKeys[k], Hold: held})
}

// headphones hands the panel's jack switch to the kiosk.
func (a *kioskAudio) headphones(in bool) {
	if a != nil {
		a.k.Headphones(in)
	}
}
