package appliance

import (
	"slices"

	"github.com/nhikiosk/nhikiosk/display"
)

// Audio mode (issue 20, EZ Access): for a person who cannot see the
// screen. It starts when headphones are plugged in (the jack's detect
// switch, where the kiosk has one) or the help key is held, and ends with
// the session (or, between sessions, when the headphones come out).
// While it is on, every screen says its title and first item, every
// tactile key's effect is said (the display's navigation, nav.go), errors
// and the idle countdown are announced. Speech goes only to the
// headphones: with jack detection, nothing is said while no plug is in,
// so a person's data never comes out of a loudspeaker.
//
// It lives in the Kiosk, beside the view: the Machine stays pure and does
// not know whether anyone is listening.

// Voice says messages on the headphones (speech.Speaker). Say replaces
// what is being said; nothing blocks.
type Voice interface {
	Say(lang string, msgs ...display.Msg)
	Stop()
	// SetVolume sets the volume in percent (0–100).
	SetVolume(percent int)
}

// audio is the Kiosk's audio mode.
type audio struct {
	k     *Kiosk
	voice Voice
	// on: audio mode; jack: the kiosk can tell whether a plug is in, and
	// in: one is.
	on, jack, in  bool
	volume, start int
	// session is the session audio mode belongs to, once one started.
	session string
	// What was last announced.
	page      *display.Page
	dialog    *display.Dialog
	errs      []display.Msg
	countdown int
}

// EnableAudio lets audio mode start, speaking with v at volume percent
// (restored at every session's end). Call it before Run.
func (k *Kiosk) EnableAudio(v Voice, volume int) {
	k.audio = &audio{k: k, voice: v, volume: volume, start: volume}
	v.SetVolume(volume)
	k.ui.OnNav(k.audio.key)
}

// AudioOn reports whether audio mode is on.
func (k *Kiosk) AudioOn() bool { return k.audio != nil && k.audio.on }

// Key hands a tactile key (from the panel or a keypad) to the display,
// from any goroutine.
func (k *Kiosk) Key(ev display.Event) { k.ui.Do(func() { k.ui.Handle(ev) }) }

// Headphones tells the kiosk a plug went into the headphone jack (in) or
// came out, from any goroutine: the kiosk has jack detection from then on.
func (k *Kiosk) Headphones(in bool) { k.ui.Do(func() { k.headphones(in) }) }

func (k *Kiosk) headphones(in bool) {
	a := k.audio
	if a == nil {
		return
	}
	a.jack, a.in = true, in
	switch {
	case in && !a.on:
		a.begin("headphones")
	case !in:
		a.voice.Stop()
		if a.on && a.session == "" && k.m.SessionID() == "" {
			a.end("headphones out")
		}
	}
}

// speaking reports whether speech may be heard now.
func (a *audio) speaking() bool { return a.on && (!a.jack || a.in) }

func (a *audio) say(msgs ...display.Msg) {
	if a.speaking() && len(msgs) > 0 {
		a.voice.Say(a.k.m.Lang(), msgs...)
	}
}

func (a *audio) begin(why string) {
	a.on, a.session = true, a.k.m.SessionID()
	a.k.m.opt.Log.Info("audio mode on", "session", a.session, "by", why)
	a.page, a.dialog, a.errs = a.k.ui.Page(), a.k.ui.Dialog(), nil
	a.say(append([]display.Msg{display.M("audio.on")}, a.k.ui.NavFirst()...)...)
}

func (a *audio) end(why string) {
	a.k.m.opt.Log.Info("audio mode off", "session", a.session, "by", why)
	a.on, a.session = false, ""
	a.voice.Stop()
	a.volume = a.start
	a.voice.SetVolume(a.volume)
}

// key takes a tactile key's effect from the display.
func (a *audio) key(ev display.NavEvent) {
	if ev.Key == display.KeyHelp && ev.Hold {
		if !a.on {
			a.begin("help held")
		}
		return
	}
	if !a.on {
		return
	}
	switch ev.Key {
	case display.KeyHelp:
		a.say(append([]display.Msg{display.M("audio.help")}, a.k.ui.NavFirst()...)...)
	case display.KeyVolumeUp, display.KeyVolumeDown:
		step := 10
		if ev.Key == display.KeyVolumeDown {
			step = -10
		}
		a.volume = min(100, max(10, a.volume+step))
		a.voice.SetVolume(a.volume)
		a.say(display.M("audio.volume", "n", a.volume))
	default:
		if errs := a.k.ui.Errors(); ev.Key == display.KeySelect && a.k.ui.Focus() == nil && len(errs) > 0 && !slices.EqualFunc(errs, a.errs, sameMsg) {
			// Select on a button did not move on: say why. (While typing,
			// the field says its error when its keyboard closes.)
			a.errs = errs
			a.say(errs...)
			return
		}
		a.say(ev.Say...)
	}
}

// after runs after every event the kiosk handled: a new screen or dialog
// is announced, the session's end ends audio mode, the idle countdown is
// announced every 5 seconds.
func (a *audio) after() {
	if a == nil || !a.on {
		return
	}
	k := a.k
	id := k.m.SessionID()
	switch {
	case a.session == "" && id != "":
		a.session = id
	case a.session != "" && id != a.session:
		a.end("session ended")
		return
	}
	ui := k.ui
	if p, d := ui.Page(), ui.Dialog(); p != a.page || d != a.dialog {
		a.page, a.dialog, a.errs, a.countdown = p, d, ui.Errors(), 0
		a.say(ui.NavFirst()...)
		return
	}
	if on, left := k.m.Warning(); on && left > 0 && left%5 == 0 && left != a.countdown {
		a.countdown = left
		a.say(display.M("display.say.countdown", "s", left))
	}
}
