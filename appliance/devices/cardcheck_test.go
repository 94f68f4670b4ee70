package devices

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
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
	// onRespond, if set, sees each /respond request's body before nhisim
	// does and returns the body to pass on (nil: drop the request). It
	// may block, as an upstream that stalls.
	mu        sync.Mutex
	onRespond func(ctx context.Context, body []byte) []byte
}

// hook sets onRespond (nil: none).
func (r *checkRig) hook(f func(ctx context.Context, body []byte) []byte) {
	r.mu.Lock()
	r.onRespond = f
	r.mu.Unlock()
}

// holdRespond makes the upstream hold each /respond until release is
// called: arrived gets a value when one is being held.
func (r *checkRig) holdRespond() (arrived <-chan struct{}, release func()) {
	in, out := make(chan struct{}, 4), make(chan struct{})
	var once sync.Once
	r.hook(func(ctx context.Context, body []byte) []byte {
		in <- struct{}{}
		select {
		case <-out:
			return body
		case <-ctx.Done():
			return nil
		}
	})
	return in, func() { once.Do(func() { close(out); r.hook(nil) }) }
}

func newCheckRig(t testing.TB, backend string, o server.Options) *checkRig {
	t.Helper()
	r := &checkRig{slot: cardslot.Open(t, backend), events: make(chan reader.Event, 64)}
	r.sim = upstreamtest.Start(t, o, nil)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == upstream.PathCardAuthRespond {
			r.mu.Lock()
			f := r.onRespond
			r.mu.Unlock()
			if f != nil {
				body, _ := io.ReadAll(req.Body)
				if body = f(req.Context(), body); body == nil {
					return
				}
				req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			}
		}
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
	if ev := r.next(t); ev.Kind != kind {
		t.Fatalf("reader event %v, want %v", ev, kind)
	}
}

// next is the backend's next event.
func (r *checkRig) next(t testing.TB) reader.Event {
	t.Helper()
	select {
	case ev := <-r.events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatalf("no reader event within 10s")
	}
	return reader.Event{}
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

// hostileModule is an upstream that asks the card for what it must not
// do: the simulation's batch with a command inserted at a position.
type hostileModule struct {
	mu  sync.Mutex
	cmd []byte // nil: the simulation's batch as it is
	at  int
}

func (m *hostileModule) set(cmd []byte, at int) {
	m.mu.Lock()
	m.cmd, m.at = cmd, at
	m.mu.Unlock()
}

func (*hostileModule) Name() string { return "hostile-test-module" }

func (m *hostileModule) Begin(c server.CardClaim) (server.CardSession, [][]byte, error) {
	s, cmds, err := server.SimModule().Begin(c)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		cmds = slices.Insert(cmds, m.at, bytes.Clone(m.cmd))
	}
	return s, cmds, err
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
				// A relay that keeps what it relays, as a hostile kiosk or a
				// man in the middle would: the /respond of a genuine card's
				// check, sent again for a new exchange (auth_id) while the
				// real relay runs that exchange with the same genuine card.
				card := virtualCard(t, p)
				r.insert(t, card)
				defer r.pull(t)
				var recorded []byte
				r.hook(func(_ context.Context, body []byte) []byte { recorded = bytes.Clone(body); return body })
				if _, err := r.check.CheckCard(ctx, appliance.PurposeLogin, identity(p)); err != nil {
					t.Fatalf("first exchange: %v", err)
				}
				var first upstream.CardAuthRespond
				if err := json.Unmarshal(recorded, &first); err != nil || len(first.Responses) != 3 {
					t.Fatalf("recorded /respond %d bytes: %v", len(recorded), err)
				}
				// The recording is an accepted answer: sent again to its own
				// exchange it is a retry, answered with the same proof.
				if s, err := r.up.Client.CardAuthRespond(ctx, first); err != nil || s.Status != upstream.StatusAuthenticated {
					t.Fatalf("the recording in its own exchange = %+v, %v; want authenticated", s, err)
				}
				var replayedFor string
				r.hook(func(_ context.Context, body []byte) []byte {
					var now upstream.CardAuthRespond
					if err := json.Unmarshal(body, &now); err != nil {
						t.Errorf("the relay's /respond: %v", err)
						return body
					}
					replayedFor = now.AuthID
					now.Responses = first.Responses
					b, _ := json.Marshal(now)
					return b
				})
				_, err := r.check.CheckCard(ctx, appliance.PurposeLogin, identity(p))
				r.hook(nil)
				if replayedFor == "" || replayedFor == first.AuthID {
					t.Fatalf("the replay went to exchange %q (the recording's %q)", replayedFor, first.AuthID)
				}
				if kindOf(err) != appliance.KindCardNotGenuine {
					t.Errorf("CheckCard with the earlier exchange's answers = %v, want %s", err, appliance.KindCardNotGenuine)
				}
				// The same card, relayed as it answers, passes: it was the
				// replay that was refused.
				if _, err := r.check.CheckCard(ctx, appliance.PurposeLogin, identity(p)); err != nil {
					t.Errorf("CheckCard of the same card without the replay: %v", err)
				}
			})
			t.Run("pulled while the upstream stalls", func(t *testing.T) {
				// The person pulls the card while the upstream holds its
				// answer back: the watcher reports the removal and the check
				// ends as a removal while the answer is still held, not as
				// the client's timeout (5 s here: unavailable).
				r.insert(t, virtualCard(t, p))
				arrived, release := r.holdRespond()
				defer release()
				res := make(chan error, 1)
				go func() {
					_, err := r.check.CheckCard(ctx, appliance.PurposeLogin, identity(p))
					res <- err
				}()
				select {
				case <-arrived:
				case err := <-res:
					t.Fatalf("CheckCard = %v before its answers reached the upstream", err)
				case <-time.After(10 * time.Second):
					t.Fatal("the check's answers never reached the upstream")
				}
				pulled := time.Now()
				r.slot.Remove()
				r.want(t, reader.CardRemoved)
				select {
				case err := <-res:
					if !errors.Is(err, reader.ErrCardRemoved) || kindOf(err) != "" || errors.Is(err, appliance.ErrUnavailable) {
						t.Errorf("CheckCard = %v, want the card removed", err)
					}
					t.Logf("the check ended %v after the card was pulled", time.Since(pulled))
				case <-time.After(10 * time.Second):
					t.Errorf("the check did not end while the upstream held its answer")
				}
				release()
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
// allow-list gets no command of that batch sent to the card, on every
// backend: every kind the allow-list refuses (readertest's table: writing,
// the life cycle, PINs and keys, signing, channels and other
// applications, GET RESPONSE, every class but 00 with chaining and secure
// messaging, extended lengths), in every position of the module's batch,
// to a card that would obey a write. (Commands under 4 or over 261 bytes
// cannot travel in the API at all: nhisim refuses its own module's batch,
// and the reader's unit tests cover them.)
func TestCardCheckDisallowed(t *testing.T) {
	for _, backend := range cardslot.All {
		t.Run(backend, func(t *testing.T) {
			m := &hostileModule{}
			r := newCheckRig(t, backend, server.Options{CardModule: m})
			_, p := person(202)
			card := virtualCard(t, p)
			card.Writable = true
			r.insert(t, card)
			defer r.pull(t)
			cases := 0
			for _, bad := range readertest.DisallowedCommands() {
				if len(bad.APDU) < 4 || len(bad.APDU) > upstream.CardAuthMaxCommandBytes {
					continue
				}
				for pos := 0; pos <= 3; pos++ {
					cases++
					m.set(bad.APDU, pos)
					before := len(card.Commands())
					_, err := r.check.CheckCard(context.Background(), appliance.PurposeRegistration, identity(p))
					if kindOf(err) != appliance.KindCardCheckFailed || !errors.Is(err, reader.ErrRelayRefused) {
						t.Errorf("%s at %d: CheckCard = %v, want %s (relay refused)", bad.Name, pos+1, err, appliance.KindCardCheckFailed)
					}
					// Only the profile read reached the card: SELECT, READ PROFILE.
					if got := card.Commands()[before:]; !bytes.Equal(got, []byte{0xA4, 0xCA}) {
						t.Errorf("%s at %d: the card was sent INS % X, want only A4 CA", bad.Name, pos+1, got)
					}
				}
			}
			if w := card.Written(); w != nil {
				t.Errorf("the card was written: % X", w)
			}
			t.Logf("%d hostile batches refused, nothing of them sent", cases)
			// The same module asking for nothing off the list: the card passes.
			m.set(nil, 0)
			if _, err := r.check.CheckCard(context.Background(), appliance.PurposeRegistration, identity(p)); err != nil {
				t.Errorf("CheckCard with the simulation's own batch: %v", err)
			}
		})
	}
}

// TestCardCheckReaderUnplugged: the reader unplugged while the upstream
// holds its answer back ends the check at once as an unplugged reader,
// and ReaderDetached does not wait for the upstream (vpcd's readers
// cannot be unplugged: the in-process and CCID backends).
func TestCardCheckReaderUnplugged(t *testing.T) {
	for _, backend := range []string{cardslot.Virtual, cardslot.CCID} {
		t.Run(backend, func(t *testing.T) {
			r := newCheckRig(t, backend, server.Options{})
			_, p := person(203)
			r.insert(t, virtualCard(t, p))
			arrived, release := r.holdRespond()
			defer release()
			res := make(chan error, 1)
			go func() {
				_, err := r.check.CheckCard(context.Background(), appliance.PurposeLogin, identity(p))
				res <- err
			}()
			select {
			case <-arrived:
			case <-time.After(10 * time.Second):
				t.Fatal("the check's answers never reached the upstream")
			}
			r.slot.Unplug(t)
			for {
				ev := r.next(t)
				if ev.Kind == reader.ReaderDetached {
					break
				}
				if ev.Kind != reader.CardRemoved {
					t.Fatalf("reader event %v, want the card removed and the reader detached", ev)
				}
			}
			select {
			case err := <-res:
				if !errors.Is(err, reader.ErrReaderUnplugged) || errors.Is(err, appliance.ErrUnavailable) {
					t.Errorf("CheckCard = %v, want the reader unplugged", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("the check did not end while the upstream held its answer")
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

// testClock is a settable clock for the upstream.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestCardCheckBindsRegistration: the wizard's registration check binds
// its proof to the registration (Identity.Pending), so when the upstream
// goes away between the check and the registration, the outbox still
// delivers it two days later; a check not bound to it gives a proof the
// upstream refuses after 5 minutes, outbox or not.
func TestCardCheckBindsRegistration(t *testing.T) {
	ctx := context.Background()
	clk := &testClock{t: time.Now()}
	r := newCheckRig(t, cardslot.Virtual, server.Options{Now: clk.now})
	ob, err := upstream.OpenOutbox(t.TempDir(), r.sim.Recipient, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The upstream unreachable at the registration: it is queued.
	down := Upstream{Client: upstream.New(upstream.Options{BaseURL: "http://127.0.0.1:1", Attempts: 1, Outbox: ob}), KioskID: "t-1"}
	queue := func(t *testing.T, n int, bind bool) {
		t.Helper()
		reg, p := person(n)
		r.insert(t, virtualCard(t, p))
		defer r.pull(t)
		pending := registration(reg, "")
		id := identity(p)
		if bind {
			id.Pending = &pending
		}
		proof, err := r.check.CheckCard(ctx, appliance.PurposeRegistration, id)
		if err != nil || proof == "" {
			t.Fatalf("CheckCard = %q, %v", proof, err)
		}
		rc, err := down.Register(ctx, registration(reg, proof))
		if err != nil || !rc.Queued {
			t.Fatalf("Register with the upstream away = %+v, %v; want queued", rc, err)
		}
	}
	queue(t, 205, true)
	clk.add(48 * time.Hour)
	if err := ob.Flush(ctx, r.up.Client.SendQueued); err != nil {
		t.Fatal(err)
	}
	if n, _ := ob.Dead(); n != 0 {
		t.Errorf("the registration bound at its check became a dead letter 48 h later")
	}
	queue(t, 206, false)
	clk.add(upstream.CardAuthProofLifetime + time.Minute)
	if err := ob.Flush(ctx, r.up.Client.SendQueued); err != nil {
		t.Fatal(err)
	}
	if n, _ := ob.Dead(); n != 1 {
		t.Errorf("Dead = %d, want the registration whose unbound proof expired", n)
	}
}
