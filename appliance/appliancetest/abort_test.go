package appliancetest

import (
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/display"
)

// reachable lists every screen a session can be on, reached on the screen
// as a person would, with something of theirs typed where there is a field.
func reachable() []Step {
	var out []Step
	for _, st := range RegisterSteps {
		s := st.Screen
		out = append(out, Step{s, func(k *Kiosk) {
			k.RegisterUntil(s)
			switch s {
			case appliance.ScreenHousehold:
				k.Fill(appliance.FieldHousehold, "F12")
			case appliance.ScreenPassword:
				k.Fill(appliance.FieldPassword, Password)
			case appliance.ScreenContact:
				k.Fill(appliance.FieldEmail, k.Email)
			}
		}})
	}
	service := func(s appliance.ScreenID, tap string, then func(k *Kiosk)) Step {
		return Step{s, func(k *Kiosk) { k.Insert(); k.Tap(tap); then(k) }}
	}
	return append(out,
		Step{appliance.ScreenReceipt, func(k *Kiosk) { k.RegisterUntil(appliance.ScreenReceipt) }},
		service(appliance.ScreenVerify, appliance.IDVerify, func(k *Kiosk) { k.Fill(appliance.FieldCode, "123") }),
		service(appliance.ScreenResend, appliance.IDResend, func(*Kiosk) {}),
		service(appliance.ScreenForgot, appliance.IDForgot, func(*Kiosk) {}),
		service(appliance.ScreenDelete, appliance.IDDelete, func(k *Kiosk) { k.Fill(appliance.FieldPassword, Password) }),
		service(appliance.ScreenHelp, appliance.IDCardHelp, func(*Kiosk) {}),
	)
}

// noneOfThem fails the test if the screen shows anything of the person.
func noneOfThem(t *testing.T, k *Kiosk) {
	t.Helper()
	txt := k.Texts()
	for _, v := range []string{k.Person.Name, k.Person.CardNumber, k.Person.IDNumber[:3] + "****", k.Email, "F12"} {
		if strings.Contains(txt, v) {
			t.Errorf("screen still shows %q after the wipe", v)
		}
	}
}

func TestCardPulledAtEveryStep(t *testing.T) {
	for _, st := range reachable() {
		t.Run(string(st.Screen), func(t *testing.T) {
			k := New(t, Options{})
			st.Do(k)
			k.Want(st.Screen)
			k.Pull()
			if st.Screen == appliance.ScreenReceipt {
				k.Want(appliance.ScreenAttract) // done already: no "removed" notice
			} else {
				k.Want(appliance.ScreenRemoved)
				noneOfThem(t, k)
				k.Wait(4 * time.Second)
				k.Want(appliance.ScreenAttract)
			}
			noneOfThem(t, k)
			if k.K.Machine().SessionID() != "" {
				t.Errorf("session survives the card")
			}
		})
	}
}

func TestIdleTimeoutAtEveryStep(t *testing.T) {
	for _, st := range reachable() {
		t.Run(string(st.Screen), func(t *testing.T) {
			k := New(t, Options{Lang: appliance.LangEn})
			st.Do(k)
			k.Wait(59 * time.Second)
			if k.UI.Dialog() != nil {
				t.Fatalf("idle warning before 60 s")
			}
			k.Wait(time.Second)
			if k.UI.Dialog() == nil {
				t.Fatalf("no idle warning after 60 s")
			}
			k.Tap(appliance.IDContinue)
			if k.UI.Dialog() != nil {
				t.Fatalf("continue did not close the warning")
			}
			k.Want(st.Screen)
			k.Wait(60 * time.Second)
			if _, ok := k.UI.Find(appliance.IDContinue).(*display.Button); !ok {
				t.Fatalf("no continue button on the second warning")
			}
			k.Wait(20 * time.Second)
			k.Want(appliance.ScreenAttract)
			if k.UI.Dialog() != nil {
				t.Errorf("warning still up on the attract screen")
			}
			noneOfThem(t, k)
		})
	}
}
