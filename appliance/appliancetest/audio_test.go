package appliancetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/divisions"
	"github.com/nhikiosk/nhikiosk/speech"
	"github.com/nhikiosk/nhikiosk/speech/voice"
)

// utterance is one thing the kiosk said, on the screen it was said on.
type utterance struct {
	screen appliance.ScreenID
	lang   string
	msgs   []display.Msg
}

// recVoice records what the kiosk says instead of playing it.
type recVoice struct {
	k      *Kiosk
	said   []utterance
	stops  int
	volume int
}

func (v *recVoice) Say(lang string, msgs ...display.Msg) {
	v.said = append(v.said, utterance{v.k.Screen(), lang, slices.Clone(msgs)})
}
func (v *recVoice) Stop()           { v.stops++ }
func (v *recVoice) SetVolume(p int) { v.volume = p }
func (v *recVoice) last() []display.Msg {
	if len(v.said) == 0 {
		return nil
	}
	return v.said[len(v.said)-1].msgs
}

// keys renders msgs as their keys with values ("display.step(n=3,total=7)",
// literals quoted), the way the test compares what was said.
func keys(msgs []display.Msg) []string {
	var out []string
	for _, m := range msgs {
		if m.Key == "" {
			out = append(out, fmt.Sprintf("%q", m.Lit))
			continue
		}
		s := m.Key
		if len(m.Args) > 0 {
			var a []string
			for i := 0; i+1 < len(m.Args); i += 2 {
				v := m.Args[i+1]
				if mm, ok := v.(display.Msg); ok {
					v = strings.Join(keys([]display.Msg{mm}), "")
				}
				a = append(a, fmt.Sprintf("%v=%v", m.Args[i], v))
			}
			s += "(" + strings.Join(a, ",") + ")"
		}
		out = append(out, s)
	}
	return out
}

// tactile drives the kiosk with the five keys only.
type tactile struct {
	*Kiosk
	v *recVoice
}

func (k tactile) press(key display.Key) {
	k.T.Helper()
	k.UI.Handle(display.Event{Kind: display.KeyPress, Key: key})
	k.Step()
}

// to moves the focus down to the widget id, as a person listening to
// each item would, and fails if a whole round of the screen never reaches
// it.
func (k tactile) to(id string) {
	k.T.Helper()
	for range 400 {
		if f := k.UI.NavFocus(); f != nil && f.ID() == id {
			return
		}
		k.press(display.KeyDown)
	}
	k.T.Fatalf("the down key never reached %q on %s", id, k.Screen())
}

func (k tactile) choose(id string) {
	k.T.Helper()
	k.to(id)
	k.press(display.KeySelect)
}

// typeInto opens field f's keyboard with select, types s key by key on it
// (shift for capitals, the symbols layer for digits and symbols, the
// e-mail keys for "@" and ".com") and closes it with back.
func (k tactile) typeInto(f appliance.FieldID, s string) {
	k.T.Helper()
	k.choose("field." + string(f))
	if k.UI.Focus() == nil {
		k.T.Fatalf("select on field %s opened no keyboard", f)
	}
	for len(s) > 0 {
		if strings.HasPrefix(s, ".com") && k.UI.Find("key..com") != nil && !strings.HasPrefix(s, ".com.") {
			k.choose("key..com")
			s = s[4:]
			continue
		}
		c := rune(s[0])
		id := "key." + string(c)
		if k.UI.Find(id) == nil {
			switch {
			case unicode.IsUpper(c) && k.UI.Find("key.shift") != nil:
				k.choose("key.shift")
			case k.UI.Find("key.symbols") != nil:
				k.choose("key.symbols")
			case k.UI.Find("key.letters2") != nil:
				k.choose("key.letters2")
			}
			if unicode.IsUpper(c) && k.UI.Find(id) == nil && k.UI.Find("key.letters2") != nil {
				k.choose("key.letters2")
				k.choose("key.shift")
			}
		}
		k.choose(id)
		s = s[1:]
	}
	k.press(display.KeyBack)
}

// pickAddress chooses a's county, township and village from the grids
// (through a group of a long list) and types the neighbourhood, with the
// keys, as PickAddress does by touch.
func (k tactile) pickAddress(a Address) {
	k.T.Helper()
	c, tw, v := a.Names()
	for _, l := range []struct {
		level string
		d     *divisions.Division
	}{{"county", c}, {"township", tw}, {"village", v}} {
		id := l.level + "." + l.d.Code
		if k.UI.Find(id) != nil {
			k.choose(id)
			continue
		}
		groups, ok := k.UI.Find(appliance.IDGroup).(*display.Grid)
		if !ok {
			k.T.Fatalf("%s %s: neither its cell nor groups on the screen", l.level, l.d.Zh)
		}
		found := false
		for _, g := range groups.Cells() {
			if !k.mayHold(g, l.d) {
				continue
			}
			k.choose(appliance.IDGroup + "." + g.ID)
			if k.UI.Find(id) != nil {
				k.choose(id)
				found = true
				break
			}
			k.press(display.KeyBack)
		}
		if !found {
			k.T.Fatalf("%s %s in no group", l.level, l.d.Zh)
		}
	}
	k.typeInto(appliance.FieldNeighbourhood, a.Neighbourhood)
}

func TestRegisterByTactileKeys(t *testing.T) {
	lib, err := speech.OpenLibrary(voice.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{appliance.LangZhTW, appliance.LangEn} {
		t.Run(lang, func(t *testing.T) {
			kk := New(t, Options{Lang: lang})
			v := &recVoice{k: kk}
			kk.K.EnableAudio(v, 80)
			k := tactile{kk, v}
			render, err := speech.NewRenderer(kk.UI.Catalog())
			if err != nil {
				t.Fatal(err)
			}

			// Holding help on the attract screen starts audio mode.
			k.UI.Handle(display.Event{Kind: display.KeyPress, Key: display.KeyHelp, Hold: true})
			k.Step()
			if !k.K.AudioOn() {
				t.Fatal("holding help did not start audio mode")
			}
			want := []string{"audio.on", "app.title", "attract.title"}
			if got := keys(v.last()); !slices.Equal(got[:min(3, len(got))], want) {
				t.Errorf("audio mode starts with %v, want %v…", got, want)
			}

			k.Insert()
			k.Want(appliance.ScreenMenu)
			k.choose(appliance.IDRegister)
			k.Want(appliance.ScreenTerms)
			// The rules, paragraph by paragraph with the down key, to
			// their end: that enables "I have read and understand".
			k.to("terms.text")
			for range 40 {
				if b := k.Find(appliance.IDAgree).(*display.Button); !b.Disabled {
					break
				}
				k.press(display.KeyDown)
			}
			k.choose(appliance.IDAgree)
			k.Want(appliance.ScreenCard)
			k.to("card.number")
			if got, want := keys(v.last()), []string{"card.number", fmt.Sprintf("%q", k.Person.CardNumber)}; !slices.Equal(got, want) {
				t.Errorf("card number said as %v, want %v", got, want)
			}
			k.choose(appliance.IDNext)
			k.Want(appliance.ScreenHousehold)
			k.typeInto(appliance.FieldHousehold, "f1234567")
			k.choose(appliance.IDNext)
			k.Want(appliance.ScreenAddress)
			k.pickAddress(k.Address)
			k.choose(appliance.IDNext)
			k.Want(appliance.ScreenPassword)
			mark := len(v.said)
			k.typeInto(appliance.FieldPassword, Password)
			typed := 0
			for _, u := range v.said[mark:] {
				if m := u.msgs[0]; m.Key == "display.say.masked" {
					typed++
					if got := m.Args[1]; got != typed {
						t.Errorf("password key %d said %v characters", typed, got)
					}
				}
			}
			if typed != len(Password) {
				t.Errorf("%d password keys said how many characters, want %d", typed, len(Password))
			}
			k.typeInto(appliance.FieldPassword2, Password)
			k.choose(appliance.IDNext)
			k.Want(appliance.ScreenContact)
			// Next without the required e-mail: the error is said.
			k.choose(appliance.IDNext)
			k.Want(appliance.ScreenContact)
			if got := keys(v.last()); !slices.Contains(got, "display.say.error") || !slices.Contains(got, "err.phone_area.required") {
				t.Errorf("next without an e-mail said %v, want the field's error", got)
			}
			k.typeInto(appliance.FieldPhoneArea, "02")
			k.typeInto(appliance.FieldPhoneNumber, "23456789")
			k.typeInto(appliance.FieldMobile, "0912345678")
			k.typeInto(appliance.FieldEmail, k.Email)
			if got := string(k.Find("field.email").(*display.Field).Value()); got != k.Email {
				t.Fatalf("typed %q into the e-mail field, want %q", got, k.Email)
			}
			k.choose(appliance.IDNext)
			k.Want(appliance.ScreenReview)
			k.choose(appliance.IDSubmit)
			k.Want(appliance.ScreenReceipt)
			if got := keys(v.last()); !slices.Contains(got, "receipt.title") {
				t.Errorf("receipt announced as %v", got)
			}
			k.choose(appliance.IDFinish)
			k.Want(appliance.ScreenAttract)
			if k.K.AudioOn() || v.stops == 0 {
				t.Errorf("audio mode on %t after the session, %d stops; want off and stopped", k.K.AudioOn(), v.stops)
			}

			// Each screen said its title (and its step) when it came.
			titles := map[appliance.ScreenID][]string{
				appliance.ScreenMenu:      {"menu.title"},
				appliance.ScreenTerms:     {"terms.title", "display.step(n=1,total=7)"},
				appliance.ScreenCard:      {"card.title", "display.step(n=2,total=7)"},
				appliance.ScreenHousehold: {"household.title", "display.step(n=3,total=7)"},
				appliance.ScreenAddress:   {"address.title", "display.step(n=4,total=7)"},
				appliance.ScreenPassword:  {"password.title", "display.step(n=5,total=7)"},
				appliance.ScreenContact:   {"contact.title", "display.step(n=6,total=7)"},
				appliance.ScreenReview:    {"review.title", "display.step(n=7,total=7)"},
				appliance.ScreenReceipt:   {"receipt.title"},
			}
			seen := map[appliance.ScreenID]bool{}
			var transcript []string
			for _, u := range v.said {
				got := keys(u.msgs)
				if want, ok := titles[u.screen]; ok && !seen[u.screen] {
					seen[u.screen] = true
					transcript = append(transcript, fmt.Sprintf("%s: %s", u.screen, strings.Join(got, " ")))
					if !slices.Equal(got[:min(len(want), len(got))], want) {
						t.Errorf("%s announced as %v, want %v first", u.screen, got, want)
					}
				}
				if u.lang != lang {
					t.Errorf("said in %s on %s, want %s", u.lang, u.screen, lang)
				}
				// Every utterance has a recording for every piece.
				for _, c := range render.Render(u.lang, u.msgs...) {
					if !lib.Has(c) {
						t.Errorf("no recording %s/%s for %v on %s", c.Lang, c.ID, got, u.screen)
					}
				}
			}
			for s := range titles {
				if !seen[s] {
					t.Errorf("screen %s was never announced", s)
				}
			}
			t.Logf("%d utterances; each screen's first:\n%s", len(v.said), strings.Join(transcript, "\n"))
		})
	}
}
