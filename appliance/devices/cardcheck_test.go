package devices

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/internal/cardslot"
	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// checkRig is a reader backend with its Device running, an in-process
// nhisim (simulated card authentication) behind a switch that can hold
// answers back, and the kiosk's CardCheck between them.
type checkRig struct {
	slot   *cardslot.Slot
	events chan reader.Event
	sim    *upstreamtest.Sim
	check  CardCheck
	up     Upstream
	logs   bytes.Buffer
	// stall holds back the answers to the exchange's rounds this long
	// (ns).
	stall atomic.Int64
}

func newCheckRig(t testing.TB, backend string, o server.Options) *checkRig {
	t.Helper()
	r := &checkRig{slot: cardslot.Open(t, backend), events: make(chan reader.Event, 64)}
	r.sim = upstreamtest.Start(t, o, nil)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if d := time.Duration(r.stall.Load()); req.URL.Path == upstream.PathCardAuthRespond && d > 0 {
			select {
			case <-time.After(d):
			case <-req.Context().Done():
				return
			}
		}
		r.sim.Server.Handler().ServeHTTP(w, req)
	}))
	t.Cleanup(front.Close)
	c := upstream.New(upstream.Options{BaseURL: front.URL, Attempts: 1, Timeout: 5 * time.Second})
	log := slog.New(slog.NewJSONHandler(&r.logs, nil))
	r.check = CardCheck{Device: r.slot.Device, Client: c, Log: log}
	r.up = Upstream{Client: c, KioskID: "t-1"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		go func() { done <- r.slot.Device.Run(ctx) }()
		for ev := range r.slot.Device.Events() {
			r.events <- ev
		}
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	r.want(t, reader.ReaderAttached)
	// A card another test left in vpcd that pcscd has not seen leave yet.
	select {
	case ev := <-r.events:
		if ev.Kind == reader.CardInserted {
			r.want(t, reader.CardRemoved)
		}
	case <-time.After(200 * time.Millisecond):
	}
	return r
}

func (r *checkRig) want(t testing.TB, kind reader.EventKind) {
	t.Helper()
	select {
	case ev := <-r.events:
		if ev.Kind != kind {
			t.Fatalf("reader event %v, want %v", ev, kind)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no %v within 10s", kind)
	}
}

// insert puts card in and waits until the backend reports it.
func (r *checkRig) insert(t testing.TB, card *readertest.Card) {
	t.Helper()
	r.slot.Insert(t, card)
	r.want(t, reader.CardInserted)
}

// pull takes the card out and waits until the backend reports it.
func (r *checkRig) pull(t testing.TB) {
	t.Helper()
	r.slot.Remove()
	r.want(t, reader.CardRemoved)
}

// person is an obviously fake card holder for test n, with a registration.
func person(n int) (upstream.Registration, readertest.Person) {
	reg := upstreamtest.Person(n)
	return reg, readertest.Person{CardNumber: reg.CardNumber, IDNumber: reg.IDNumber, Name: "測試",
		BirthDate: time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC), Sex: reader.Male,
		IssueDate: time.Date(2010, 1, 4, 0, 0, 0, 0, time.UTC)}
}

func virtualCard(t testing.TB, p readertest.Person) *readertest.Card {
	t.Helper()
	c, err := readertest.NewCard(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func identity(p readertest.Person) appliance.Identity {
	return appliance.Identity{CardNumber: p.CardNumber, IDNumber: p.IDNumber}
}

func kindOf(err error) string {
	var ue *appliance.UpstreamError
	if errors.As(err, &ue) {
		return ue.Kind
	}
	return ""
}

// hostileModule is an upstream that asks the card to write: the
// simulation's batch with UPDATE BINARY in the middle of it.
type hostileModule struct{}

func (hostileModule) Name() string { return "hostile-test-module" }

var updateBinary = []byte{0x00, 0xD6, 0x00, 0x00, 0x02, 0xDE, 0xAD}

func (hostileModule) Begin(c server.CardClaim) (server.CardSession, [][]byte, error) {
	s, cmds, err := server.SimModule().Begin(c)
	return s, slices.Insert(cmds, 1, updateBinary), err
}

// TestCardCheck runs the kiosk's card check end to end on every reader
// backend: the real relay and allow-list, the real API and nhisim's
// simulated module, virtual cards in the in-process reader, in vpcd behind
// pcscd, and in the fake CCID reader.
func TestCardCheck(t *testing.T) {
	for _, backend := range cardslot.All {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			r := newCheckRig(t, backend, server.Options{})
			reg, p := person(200)

			t.Run("genuine card passes", func(t *testing.T) {
				card := virtualCard(t, p)
				r.insert(t, card)
				defer r.pull(t)
				proof, err := r.check.CheckCard(ctx, appliance.PurposeRegistration, identity(p))
				if err != nil || proof == "" {
					t.Fatalf("CheckCard = %q, %v; want a proof", proof, err)
				}
				for _, ins := range card.Commands() {
					if !slices.Contains([]byte{0xA4, 0xCA, 0x88}, ins) {
						t.Errorf("the card was sent INS %02X", ins)
					}
				}
				if _, err := r.up.Register(ctx, registration(reg, proof)); err != nil {
					t.Errorf("Register with the proof: %v", err)
				}
			})
			t.Run("wrong key refused", func(t *testing.T) {
				card := virtualCard(t, p)
				card.Key = readertest.WrongKey(p)
				r.insert(t, card)
				defer r.pull(t)
				if _, err := r.check.CheckCard(ctx, appliance.PurposeLogin, identity(p)); kindOf(err) != appliance.KindCardNotGenuine {
					t.Errorf("CheckCard = %v, want %s", err, appliance.KindCardNotGenuine)
				}
			})
			t.Run("replayed answer refused", func(t *testing.T) {
				genuine := virtualCard(t, p)
				r.insert(t, genuine)
				if _, err := r.check.CheckCard(ctx, appliance.PurposeLogin, identity(p)); err != nil {
					t.Fatalf("first exchange: %v", err)
				}
				r.pull(t)
				replaying := virtualCard(t, p)
				replaying.Key, replaying.Replay = nil, genuine.LastSignature()
				r.insert(t, replaying)
				defer r.pull(t)
				if _, err := r.check.CheckCard(ctx, appliance.PurposeLogin, identity(p)); kindOf(err) != appliance.KindCardNotGenuine {
					t.Errorf("CheckCard with the earlier exchange's signature = %v, want %s", err, appliance.KindCardNotGenuine)
				}
			})
			t.Run("another card than the session's", func(t *testing.T) {
				_, other := person(201)
				r.insert(t, virtualCard(t, other))
				defer r.pull(t)
				if _, err := r.check.CheckCard(ctx, appliance.PurposeLogin, identity(p)); !errors.Is(err, reader.ErrCardRemoved) {
					t.Errorf("CheckCard = %v, want the card taken for removed", err)
				}
			})
			for name, tc := range map[string]struct {
				change func(c *readertest.Card)
				want   error
			}{
				"pulled mid-exchange": {func(c *readertest.Card) { c.PullOn = 0x88 }, reader.ErrCardRemoved},
				"mute mid-exchange":   {func(c *readertest.Card) { c.MuteOn = 0x88 }, reader.ErrCardMute},
			} {
				t.Run(name, func(t *testing.T) {
					card := virtualCard(t, p)
					tc.change(card)
					r.insert(t, card)
					_, err := r.check.CheckCard(ctx, appliance.PurposeVerification, identity(p))
					if !errors.Is(err, tc.want) || kindOf(err) != "" {
						t.Errorf("CheckCard = %v, want %v (a card error)", err, tc.want)
					}
					if tc.want == reader.ErrCardRemoved {
						r.want(t, reader.CardRemoved)
						r.slot.Remove()
					} else {
						r.pull(t)
					}
				})
			}
			t.Run("upstream timeout", func(t *testing.T) {
				r.insert(t, virtualCard(t, p))
				defer r.pull(t)
				r.stall.Store(int64(3 * time.Second))
				defer r.stall.Store(0)
				slow := r.check
				slow.Timeout = 700 * time.Millisecond
				if _, err := slow.CheckCard(ctx, appliance.PurposeLogin, identity(p)); !errors.Is(err, appliance.ErrUnavailable) {
					t.Errorf("CheckCard = %v, want unavailable", err)
				}
			})
			t.Run("logs", func(t *testing.T) {
				l := r.logs.String()
				for _, want := range []string{`"msg":"card check"`, `"sw":"9000,9000,9000"`, `"result":"genuine"`, `"result":"card_not_genuine"`} {
					if !strings.Contains(l, want) {
						t.Errorf("logs lack %s:\n%s", want, l)
					}
				}
				for _, pii := range []string{p.CardNumber, p.IDNumber, p.Name, "proof"} {
					if strings.Contains(l, pii) {
						t.Errorf("logs hold %q", pii)
					}
				}
			})
		})
	}
}

// TestCardCheckDisallowed: an upstream that asks for a command off the
// allow-list (UPDATE BINARY, to a card that would obey it) gets no command
// of that batch sent to the card, on every backend.
func TestCardCheckDisallowed(t *testing.T) {
	for _, backend := range cardslot.All {
		t.Run(backend, func(t *testing.T) {
			r := newCheckRig(t, backend, server.Options{CardModule: hostileModule{}})
			_, p := person(202)
			card := virtualCard(t, p)
			card.Writable = true
			r.insert(t, card)
			defer r.pull(t)
			_, err := r.check.CheckCard(context.Background(), appliance.PurposeRegistration, identity(p))
			if kindOf(err) != appliance.KindCardCheckFailed || !errors.Is(err, reader.ErrRelayRefused) {
				t.Errorf("CheckCard = %v, want %s (relay refused)", err, appliance.KindCardCheckFailed)
			}
			// Only the profile read reached the card: SELECT, READ PROFILE.
			if got := card.Commands(); !bytes.Equal(got, []byte{0xA4, 0xCA}) {
				t.Errorf("the card was sent INS % X, want only A4 CA", got)
			}
			if w := card.Written(); w != nil {
				t.Errorf("the card was written: % X", w)
			}
		})
	}
}

// registration is reg as the wizard sends it, with the card's proof.
func registration(reg upstream.Registration, proof string) appliance.Registration {
	return appliance.Registration{TermsVersion: reg.TermsVersion,
		Identity: appliance.Identity{CardNumber: reg.CardNumber, IDNumber: reg.IDNumber, CardProof: proof},
		Name:     reg.Name, BirthDate: reg.BirthDate, Household: reg.Household.Number, CountyCode: reg.Household.CountyCode,
		TownshipCode: reg.Household.TownshipCode, VillageCode: reg.Household.VillageCode, Neighbourhood: reg.Household.Neighbourhood,
		Password: reg.Password, PhoneArea: reg.Contact.Phone.AreaCode, PhoneNumber: reg.Contact.Phone.Number,
		Mobile: reg.Contact.Mobile, Email: reg.Contact.Email}
}
