package appliancetest

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/internal/cardslot"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
)

// The person's messages of the card check (appliance/messages/en.json).
const (
	msgNotGenuine  = "could not be confirmed as a genuine NHI card"
	msgCheckFailed = "The check of your card could not be completed"
	msgUnavailable = "The NHI cannot be reached right now"
	msgMute        = "The card does not answer"
)

// verifyWith inserts card and submits an e-mail verification with code:
// the wizard checks the card first.
func (k *Kiosk) verifyWith(card *readertest.Card, code string) {
	k.T.Helper()
	k.InsertCard(card)
	k.Tap(appliance.IDVerify)
	k.Fill(appliance.FieldCode, code)
	k.Tap(appliance.IDSubmit)
}

// verified reports whether the test person's account is active: the
// password reset, which needs it, is accepted.
func (k *Kiosk) verified(t *testing.T) bool {
	t.Helper()
	err := k.Client.PasswordReset(t.Context(), k.Person.CardNumber, k.Person.IDNumber)
	return err == nil
}

// TestCardCheckOnEveryReader is issue 24 through the wizard on each reader
// backend (the in-process reader, pcscd with vpcd, the CCID backend over
// its fake reader), against nhisim's simulated card authentication.
func TestCardCheckOnEveryReader(t *testing.T) {
	for _, backend := range cardslot.All {
		t.Run(backend, func(t *testing.T) {
			t.Run("genuine card passes", func(t *testing.T) {
				k := New(t, Options{Lang: appliance.LangEn, Reader: backend})
				k.RegisterUntil(appliance.ScreenReceipt)
				if !slices.Contains(k.Card.Commands(), 0x88) {
					t.Errorf("the card was never asked to authenticate: INS % X", k.Card.Commands())
				}
				k.Pull()
				k.verifyWith(k.NewCard(), k.Code(1))
				k.Want(appliance.ScreenResult)
				if !k.verified(t) {
					t.Errorf("the account is not active after the verification")
				}
			})
			t.Run("right profile, wrong key", func(t *testing.T) {
				k := New(t, Options{Lang: appliance.LangEn, Reader: backend})
				k.RegisterByAPI(false)
				forged := k.NewCard()
				forged.Key = readertest.WrongKey(k.Person)
				k.verifyWith(forged, k.Code(1))
				k.Want(appliance.ScreenError)
				k.wantText(t, msgNotGenuine)
				if k.verified(t) {
					t.Errorf("a card with the wrong key verified the account")
				}
			})
			t.Run("disallowed command never sent", func(t *testing.T) {
				k := New(t, Options{Lang: appliance.LangEn, Reader: backend, CardModule: hostileModule{}})
				card := k.NewCard()
				card.Writable = true // it would obey UPDATE BINARY
				k.InsertCard(card)
				for _, st := range RegisterSteps { // the registration, submitted
					k.Want(st.Screen)
					st.Do(k)
				}
				k.Want(appliance.ScreenError)
				k.wantText(t, msgCheckFailed)
				if slices.Contains(card.Commands(), 0xD6) || card.Written() != nil {
					t.Errorf("the card got UPDATE BINARY: INS % X, written % X", card.Commands(), card.Written())
				}
				if strings.Count(string(card.Commands()), "\xA4") > 2 {
					t.Errorf("a command of the refused batch reached the card: INS % X", card.Commands())
				}
			})
			t.Run("replayed answer refused", func(t *testing.T) {
				k := New(t, Options{Lang: appliance.LangEn, Reader: backend})
				k.RegisterByAPI(false)
				genuine := k.NewCard()
				k.verifyWith(genuine, "000000") // checked, then the wrong code
				k.Want(appliance.ScreenVerify)
				recorded := genuine.LastSignature()
				if recorded == nil {
					t.Fatalf("the genuine card signed nothing")
				}
				k.Pull()
				replaying := k.NewCard()
				replaying.Key, replaying.Replay = nil, recorded
				k.verifyWith(replaying, k.Code(1))
				k.Want(appliance.ScreenError)
				k.wantText(t, msgNotGenuine)
			})
			t.Run("card pulled mid-exchange", func(t *testing.T) {
				k := New(t, Options{Lang: appliance.LangEn, Reader: backend})
				k.RegisterByAPI(false)
				card := k.NewCard()
				card.PullOn = 0x88
				k.verifyWith(card, k.Code(1))
				k.Event() // the reader saw it go
				k.Want(appliance.ScreenRemoved)
				if k.verified(t) {
					t.Errorf("verified without the card")
				}
			})
			t.Run("mute card mid-exchange", func(t *testing.T) {
				k := New(t, Options{Lang: appliance.LangEn, Reader: backend})
				k.RegisterByAPI(false)
				card := k.NewCard()
				card.MuteOn = 0x88
				k.verifyWith(card, k.Code(1))
				k.Want(appliance.ScreenCardError)
				k.wantText(t, msgMute)
				k.Tap(appliance.IDBack) // back to the service, the code kept
				k.Want(appliance.ScreenVerify)
				k.Pull()
			})
			t.Run("upstream timeout", func(t *testing.T) {
				k := New(t, Options{Lang: appliance.LangEn, Reader: backend, CheckTimeout: time.Second})
				k.RegisterByAPI(false)
				k.StallCardCheck(3 * time.Second)
				k.verifyWith(k.NewCard(), k.Code(1))
				k.Want(appliance.ScreenError)
				k.wantText(t, msgUnavailable)
				k.StallCardCheck(0)
			})
		})
	}
}

// TestCardCheckEveryService: registration, verification, the new password
// of a reset, the deletion and the login each run the check, and with a
// forged card none of them is done.
func TestCardCheckEveryService(t *testing.T) {
	k := New(t, Options{Lang: appliance.LangEn})
	k.RegisterByAPI(false)
	forged := k.NewCard()
	forged.Key = readertest.WrongKey(k.Person)
	k.InsertCard(forged)
	k.Tap(appliance.IDDelete)
	k.Fill(appliance.FieldPassword, Password)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenError)
	k.wantText(t, msgNotGenuine)
	k.Tap(appliance.IDMenu)
	k.Tap(appliance.IDVerify)
	k.Fill(appliance.FieldCode, k.Code(1))
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenError)
	k.Pull()
	// The genuine card verifies; then the forged one can neither log in
	// nor reset the password.
	k.verifyWith(k.NewCard(), k.Code(1))
	k.Want(appliance.ScreenResult)
	k.Pull()
	k.InsertCard(forged)
	k.Tap(appliance.IDLogin)
	k.Fill(appliance.FieldPassword, Password)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenError)
	k.wantText(t, msgNotGenuine)
	k.Tap(appliance.IDMenu)
	k.Tap(appliance.IDForgot)
	k.Tap(appliance.IDSubmit) // the e-mail with the code needs no card check
	k.Want(appliance.ScreenReset)
	k.Fill(appliance.FieldCode, k.Code(2))
	k.Fill(appliance.FieldPassword, NewPassword)
	k.Fill(appliance.FieldPassword2, NewPassword)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenError)
	k.wantText(t, msgNotGenuine)
	if _, err := k.Client.Login(t.Context(), k.Person.CardNumber, k.Person.IDNumber, NewPassword); upstream.Code(err) != upstream.ErrCodeWrongPassword {
		t.Errorf("login with the new password = %v, want it refused (the reset was not done)", err)
	}
}

// TestCardCheckUpstreamDown: with the upstream away at the check, the
// registration says to try later and queues nothing (a queued one needs
// the card's proof).
func TestCardCheckUpstreamDown(t *testing.T) {
	k := New(t, Options{Lang: appliance.LangEn})
	k.RegisterUntil(appliance.ScreenReview)
	k.SetDown(true)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenError)
	k.wantText(t, msgUnavailable)
	if n, _ := k.Client.Outbox().Len(); n != 0 {
		t.Errorf("outbox holds %d, want nothing queued without the card check", n)
	}
}

// hostileModule is an upstream that asks the card to write: nhisim's
// simulated batch with UPDATE BINARY second.
type hostileModule struct{}

func (hostileModule) Name() string { return "hostile-test-module" }

func (hostileModule) Begin(c server.CardClaim) (server.CardSession, [][]byte, error) {
	s, cmds, err := server.SimModule().Begin(c)
	return s, slices.Insert(cmds, 1, bytes.Clone([]byte{0x00, 0xD6, 0x00, 0x00, 0x02, 0xDE, 0xAD})), err
}
