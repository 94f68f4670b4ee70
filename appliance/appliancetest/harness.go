// Package appliancetest runs the whole kiosk wizard inside a test: the
// headless display (taps by widget id, typing on the on-screen keyboards),
// a card reader with the real NHI card protocol and card check (the
// in-process virtual reader, or pcscd with vpcd, or the CCID backend over
// its fake reader: internal/cardslot), and an in-process nhisim (with its
// simulated card authentication) whose e-mails go to a real SMTP catcher
// (Mailpit, started by scripts/test.sh) and are read back from it. It is
// for tests only.
package appliancetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/appliance/devices"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
	"github.com/nhikiosk/nhikiosk/divisions"
	"github.com/nhikiosk/nhikiosk/internal/cardslot"
	"github.com/nhikiosk/nhikiosk/internal/itest"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// Kiosk is the wizard wired to real parts, driven by a test.
type Kiosk struct {
	*displaytest.Harness
	K *appliance.Kiosk
	// Slot is the card reader; Card the card last inserted.
	Slot *cardslot.Slot
	Card *readertest.Card
	Sim  *upstreamtest.Sim
	// Client reaches nhisim for a test's own calls, proving them with the
	// test person's genuine virtual card (upstreamtest.Genuine); the
	// wizard's client is the same without that, so the wizard's own card
	// check is what its calls carry.
	Client *upstream.Client
	Mail   upstreamtest.Mailpit
	// Person is the card holder of this test, with a name, ID and e-mail
	// unique to the run so Mailpit's messages never mix between tests.
	Person readertest.Person
	Email  string
	// Address is where the person's household is registered (Matsu
	// unless the test sets another): RegisterSteps picks it.
	Address Address
	// Logs holds everything the kiosk, the client and nhisim logged.
	Logs *SyncBuffer
	// SMS holds nhisim's developer output, where the SMS it cannot send
	// (binding codes) are printed: the test's phone reads them there.
	SMS *SyncBuffer

	sentMu sync.Mutex
	sent   []upstream.Household

	down     atomic.Bool
	downPath atomic.Value // string: only this path is down
	stall    atomic.Int64 // ns the answers to the card check's rounds are held back
	later    atomic.Int64 // how far nhisim's clock is ahead, in ns
	cards    chan appliance.Event
}

// Options change the kiosk a test gets.
type Options struct {
	Size image.Point // 800×480 if zero
	Lang string      // zh-TW if empty
	// Down starts with the upstream unreachable (503 on every request).
	Down bool
	// Divisions replaces nhisim's division list (the full one built in).
	Divisions divisions.List
	// CacheDir is where the kiosk keeps the upstream's division list and
	// rules (none if empty), to start a kiosk again on what an earlier
	// one kept.
	CacheDir string
	// Reader is the reader backend (cardslot.Virtual, PCSC, CCID); empty
	// is the virtual one.
	Reader string
	// CardModule replaces nhisim's simulated card authentication (a test's
	// hostile module, say).
	CardModule server.CardModule
	// CheckTimeout bounds the wizard's card check; 0 is the kiosk's own.
	CheckTimeout time.Duration
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var seq atomic.Int64

// New starts nhisim (mail to Mailpit), a virtual reader and the wizard on
// a headless screen. It skips (fails in CI) without Mailpit.
func New(t *testing.T, o Options) *Kiosk {
	t.Helper()
	smtp := itest.Env(t, "NHIKIOSK_SMTP_ADDR", "Mailpit (SMTP catcher)")
	api := itest.Env(t, "NHIKIOSK_MAILPIT_API", "Mailpit (SMTP catcher)")
	if o.Size == (image.Point{}) {
		o.Size = image.Pt(800, 480)
	}
	if o.Lang == "" {
		o.Lang = appliance.LangZhTW
	}
	if o.Reader == "" {
		o.Reader = cardslot.Virtual
	}
	k := &Kiosk{Mail: upstreamtest.Mailpit{API: api}, Logs: &SyncBuffer{}, SMS: &SyncBuffer{}, cards: make(chan appliance.Event, 8)}
	log := slog.New(slog.NewJSONHandler(k.Logs, nil))
	k.Sim = upstreamtest.Start(t, server.Options{Mailer: server.SMTPMailer{Addr: smtp}, Logger: log, Divisions: o.Divisions, DevOut: k.SMS,
		Now: func() time.Time { return time.Now().Add(time.Duration(k.later.Load())) }, CardModule: o.CardModule}, nil)
	k.down.Store(o.Down)
	k.downPath.Store("")
	// The kiosk reaches nhisim through a switch, so a test can take the
	// upstream away (or one path of it) and bring it back, or hold the card
	// check's answers back.
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k.down.Load() || k.downPath.Load() == r.URL.Path {
			http.Error(w, `{"error":{"code":"unavailable"}}`, http.StatusServiceUnavailable)
			return
		}
		if r.Method == http.MethodPost && r.URL.Path == upstream.PathRegistrations && r.Header.Get("Content-Type") == upstream.ContentJSON {
			k.noteAddress(r)
		}
		if d := time.Duration(k.stall.Load()); d > 0 && r.URL.Path == upstream.PathCardAuthRespond {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		k.Sim.Server.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	ob, err := upstream.OpenOutbox(t.TempDir(), k.Sim.Recipient, log)
	if err != nil {
		t.Fatal(err)
	}
	wizard := upstream.New(upstream.Options{BaseURL: front.URL, Timeout: 5 * time.Second, Attempts: 2,
		Backoff: time.Millisecond, Outbox: ob, Logger: log})
	k.Client = wizard.WithCardProver(upstreamtest.Genuine)

	n := seq.Add(1)
	run := runID()
	k.Email = fmt.Sprintf("kiosk-%s-%d@example.com", run, n)
	k.Person = readertest.TestOne
	k.Address = Matsu
	k.Person.IDNumber = upstreamtest.IDNumber(int(time.Now().UnixNano()%9_000_000) + int(n))
	k.Person.CardNumber = fmt.Sprintf("%012d", 800000000000+time.Now().UnixNano()%100_000_000+n)

	k.Harness = displaytest.New(t, o.Size, display.NewCatalog(), display.DefaultTheme(), o.Lang)
	k.Slot = cardslot.Open(t, o.Reader)
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan error, 1)
	go func() { watched <- devices.WatchCards(ctx, k.Slot.Device, k.cards) }()
	t.Cleanup(func() { cancel(); <-watched })
	k.settle()

	k.K, err = appliance.NewKiosk(k.UI, appliance.Options{
		Lang: o.Lang, IdleTimeout: 60 * time.Second, WarningCountdown: 20 * time.Second,
		RemovedScreen: 4 * time.Second, MaxDuration: 20 * time.Minute,
		Now: k.Clock.Now, Log: log,
		Card: devices.Card{Device: k.Slot.Device}, CardKey: devices.CardErrorKey,
		Upstream:  devices.Upstream{Client: wizard, KioskID: "e2e-1", CacheDir: o.CacheDir, Log: log},
		CardCheck: devices.CardCheck{Device: k.Slot.Device, Client: wizard, Log: log, Timeout: o.CheckTimeout},
	})
	if err != nil {
		t.Fatal(err)
	}
	k.K.Start()
	k.Step()
	t.Cleanup(func() { k.CheckNoPII(t) })
	return k
}

func runID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Later moves nhisim's clock d ahead (codes expire, locks lift).
func (k *Kiosk) Later(d time.Duration) { k.later.Add(int64(d)) }

// SetDown makes the upstream unreachable (true) or reachable again.
func (k *Kiosk) SetDown(down bool) { k.down.Store(down) }

// SetDownFor makes only path unreachable ("": none).
func (k *Kiosk) SetDownFor(path string) { k.downPath.Store(path) }

// StallCardCheck holds the answers to the card check's rounds back for d
// (0: not at all), as an upstream that stopped answering.
func (k *Kiosk) StallCardCheck(d time.Duration) { k.stall.Store(int64(d)) }

// Screen returns the wizard's screen.
func (k *Kiosk) Screen() appliance.ScreenID { return k.K.Machine().Screen() }

// Want fails the test unless the wizard shows screen s.
func (k *Kiosk) Want(s appliance.ScreenID) {
	k.T.Helper()
	if got := k.Screen(); got != s {
		k.T.Fatalf("screen = %s, want %s", got, s)
	}
}

// event waits for the reader's next event and hands it to the wizard.
func (k *Kiosk) event() {
	k.T.Helper()
	select {
	case ev := <-k.cards:
		k.K.Dispatch(ev)
		k.Step()
	case <-time.After(10 * time.Second):
		k.T.Fatalf("no event from the %s reader", k.Slot.Backend)
	}
}

// Event waits for the reader's next event (a card leaving by itself, say)
// and hands it to the wizard.
func (k *Kiosk) Event() {
	k.T.Helper()
	k.event()
}

// settle waits out a card another test left in vpcd that pcscd has not
// seen leave yet, before the wizard runs.
func (k *Kiosk) settle() {
	select {
	case ev := <-k.cards:
		if _, ok := ev.(appliance.CardInserted); ok {
			select {
			case <-k.cards:
			case <-time.After(10 * time.Second):
				k.T.Fatalf("a stale card never left the %s reader", k.Slot.Backend)
			}
		}
	case <-time.After(200 * time.Millisecond):
	}
}

// NewCard is a genuine virtual card of the test person.
func (k *Kiosk) NewCard() *readertest.Card {
	k.T.Helper()
	card, err := readertest.NewCard(k.Person)
	if err != nil {
		k.T.Fatal(err)
	}
	return card
}

// Insert puts the test person's genuine card in the reader.
func (k *Kiosk) Insert() {
	k.T.Helper()
	k.InsertCard(k.NewCard())
}

// InsertCard puts card in the reader and waits for the wizard to see it.
func (k *Kiosk) InsertCard(card *readertest.Card) {
	k.T.Helper()
	k.Card = card
	k.Slot.Insert(k.T, card)
	k.event()
}

// Pull takes the card out.
func (k *Kiosk) Pull() {
	k.T.Helper()
	k.Slot.Remove()
	k.event()
}

// Wait lets time pass on the kiosk's clock and ticks the wizard.
func (k *Kiosk) Wait(d time.Duration) {
	for d > 0 {
		step := min(d, time.Second)
		k.Clock.T = k.Clock.T.Add(step)
		d -= step
		k.K.Dispatch(appliance.Tick{})
	}
	k.Step()
}

// Fill taps a field, erases what it holds with the keyboard's backspace,
// types s on the on-screen keyboard and closes it.
func (k *Kiosk) Fill(f appliance.FieldID, s string) {
	k.T.Helper()
	k.Tap("field." + string(f))
	for n := k.Find("field." + string(f)).(*display.Field).Len(); n > 0; n-- {
		k.Tap("key.backspace")
	}
	k.Type(s)
	if k.UI.Find("key.enter") != nil {
		k.Tap("key.enter")
	}
}

// ReadTerms scrolls the rules of the service to their end with a finger.
func (k *Kiosk) ReadTerms() {
	k.T.Helper()
	r := k.Find("terms.text").Bounds()
	for range 80 {
		k.Drag((r.Min.X+r.Max.X)/2, r.Max.Y-10, -(r.Dy() - 30))
		if b, ok := k.UI.Find(appliance.IDAgree).(*display.Button); ok && !b.Disabled {
			return
		}
	}
	k.T.Fatalf("the rules never reached their end")
}

// Code waits for the n-th e-mail to the test person and returns its code.
func (k *Kiosk) Code(n int) string {
	k.T.Helper()
	return upstreamtest.CodeIn(k.T, k.Mail.Wait(k.T, k.Email, n).Text)
}

// Texts returns every piece of text on screen, joined.
func (k *Kiosk) Texts() string {
	var b strings.Builder
	for _, r := range k.UI.Audit() {
		b.WriteString(r.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// CheckNoPII fails the test if the person's name, ID number, card number,
// e-mail or a password reached the captured logs.
func (k *Kiosk) CheckNoPII(t testing.TB) {
	t.Helper()
	logs := k.Logs.String()
	if !strings.Contains(logs, `"step"`) {
		t.Errorf("no log lines were captured: the check below would prove nothing")
	}
	for _, v := range []string{k.Person.Name, k.Person.IDNumber, k.Person.CardNumber, k.Email, Password, NewPassword} {
		if strings.Contains(logs, v) {
			t.Errorf("captured logs contain personal data %q", v)
		}
	}
}

// Passwords the tests type.
const (
	Password    = "Kiosk1!pw"
	NewPassword = "Reset2#pw"
)

// noteAddress keeps the household part of a registration on its way to
// nhisim (the body is put back for it).
func (k *Kiosk) noteAddress(r *http.Request) {
	b, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	var reg upstream.Registration
	if err != nil || json.Unmarshal(b, &reg) != nil {
		return
	}
	k.sentMu.Lock()
	k.sent = append(k.sent, reg.Household)
	k.sentMu.Unlock()
}

// Sent returns the household part (number, address codes, neighbourhood)
// of every registration the kiosk sent to nhisim, in order.
func (k *Kiosk) Sent() []upstream.Household {
	k.sentMu.Lock()
	defer k.sentMu.Unlock()
	return append([]upstream.Household(nil), k.sent...)
}
