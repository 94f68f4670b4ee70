package appliance

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/divisions"
)

// Test people: obviously fake.
const (
	testID        = "A123456789"
	testCard      = "000012345678"
	testName      = "測試一"
	testEmail     = "test.one@example.com"
	testPassword  = "Abc12!xy"
	testHousehold = "F1234567"
)

func testProfile() CardProfile {
	return CardProfile{CardNumber: []byte(testCard), IDNumber: []byte(testID), Name: []byte(testName), BirthDate: []byte("1970-01-01")}
}

// fakeDivisions is a list like the upstream's, with made-up villages
// under Taipei's Zhongzheng district and a county without townships.
func fakeDivisions() []Division {
	return []Division{
		{Code: "63000", Zh: "臺北市", En: "Taipei City", Children: []Division{
			{Code: "63000010", Zh: "松山區", En: "Songshan"},
			{Code: "63000020", Zh: "信義區", En: "Xinyi"},
			{Code: "63000030", Zh: "大安區", En: "Da'an"},
			{Code: "63000040", Zh: "中山區", En: "Zhongshan"},
			{Code: "63000050", Zh: "中正區", En: "Zhongzheng", Children: []Division{
				{Code: "6300005001", Zh: "測試里", En: "Test Village"},
				{Code: "6300005002", Zh: "範例里", En: "Example Village"},
			}},
			{Code: "63000060", Zh: "大同區", En: "Datong"},
		}},
		{Code: "65000", Zh: "新北市", En: "New Taipei City"},
		{Code: "68000", Zh: "桃園市", En: "Taoyuan City"},
		{Code: "66000", Zh: "臺中市", En: "Taichung City"},
		{Code: "67000", Zh: "臺南市", En: "Tainan City"},
		{Code: "64000", Zh: "高雄市", En: "Kaohsiung City"},
	}
}

// fakeCard is a card reader that answers with a profile or an error.
type fakeCard struct {
	err   error
	reads int
	last  CardProfile // the last profile handed out, to check it is wiped
}

func (c *fakeCard) ReadProfile(context.Context) (CardProfile, error) {
	c.reads++
	if c.err != nil {
		return CardProfile{}, c.err
	}
	c.last = testProfile()
	return c.last, nil
}

// fakeUpstream records calls and answers with the errors set per call.
type fakeUpstream struct {
	terms     map[string]Terms
	termsErr  error
	divisions []Division
	// divisionsVersion is the version of divisions (the upstream's,
	// newer than the built-in list); divisionsCached answers them as a
	// copy kept from an earlier answer.
	divisionsVersion string
	divisionsCached  bool
	errs             map[string]error // by method name
	registered       []Registration
	calls            []string
	outbox           []Registration // queued when Register is unavailable
	outboxDown       bool
	code             string     // the code Verify and ResetPassword accept
	password         string     // the password Cancel accepts
	devices          []Device   // the account's linked devices
	bindings         int        // bindings started
	contact          Contact    // the account's contact data
	bindStatus       string     // what BindingStatus answers (\"\" waiting)
	proofs           []string   // the card check's proofs the calls carried, in order
	mu               sync.Mutex // calls may come from a late logout's goroutine
}

func newFakeUpstream() *fakeUpstream {
	return &fakeUpstream{
		terms: map[string]Terms{
			LangZhTW: {Version: "2026-01", Lang: LangZhTW, Text: "規範全文"},
			LangEn:   {Version: "2026-01", Lang: LangEn, Text: "The rules"},
		},
		divisions: fakeDivisions(), divisionsVersion: "2026-01-01",
		errs:     map[string]error{},
		code:     "123456",
		password: testPassword,
	}
}

func (u *fakeUpstream) call(name string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls = append(u.calls, name)
	return u.errs[name]
}

// proved records the proof a call that needs one carried.
func (u *fakeUpstream) proved(id Identity) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.proofs = append(u.proofs, id.CardProof)
}

func (u *fakeUpstream) Terms(_ context.Context, lang string) (Terms, error) {
	if err := u.call("Terms"); err != nil {
		return Terms{}, err
	}
	return u.terms[lang], nil
}

func (u *fakeUpstream) Divisions(context.Context) (DivisionList, error) {
	if err := u.call("Divisions"); err != nil {
		return DivisionList{}, err
	}
	return DivisionList{List: divisions.List{Version: u.divisionsVersion, Counties: u.divisions}, Cached: u.divisionsCached}, nil
}

func (u *fakeUpstream) Register(_ context.Context, r Registration) (Receipt, error) {
	u.proved(r.Identity)
	if err := u.call("Register"); err == ErrUnavailable && !u.outboxDown {
		u.outbox = append(u.outbox, r)
		return Receipt{Queued: true}, nil
	} else if err != nil {
		return Receipt{}, err
	}
	u.registered = append(u.registered, r)
	return Receipt{Reference: "R-0001"}, nil
}

func (u *fakeUpstream) Verify(_ context.Context, id Identity, code string) error {
	u.proved(id)
	if err := u.call("Verify"); err != nil {
		return err
	}
	if code != u.code {
		return &UpstreamError{Kind: KindBadCode}
	}
	return nil
}

func (u *fakeUpstream) Resend(context.Context, Identity) error { return u.call("Resend") }

func (u *fakeUpstream) RequestReset(context.Context, Identity) error { return u.call("RequestReset") }

func (u *fakeUpstream) ResetPassword(_ context.Context, id Identity, code, _ string) error {
	u.proved(id)
	if err := u.call("ResetPassword"); err != nil {
		return err
	}
	if code != u.code {
		return &UpstreamError{Kind: KindBadCode}
	}
	return nil
}

func (u *fakeUpstream) Cancel(_ context.Context, id Identity, pw string) error {
	u.proved(id)
	if err := u.call("Cancel"); err != nil {
		return err
	}
	if pw != u.password {
		return &UpstreamError{Kind: KindWrongPassword}
	}
	return nil
}

// driver runs a machine with a fake clock, running its jobs at once.
type driver struct {
	t    *testing.T
	m    *Machine
	now  time.Time
	card *fakeCard
	up   *fakeUpstream
	logs bytes.Buffer
	// owned collects every byte slice the session owned, to check they
	// were zeroed by the wipe.
	ids int
}

func newDriver(t *testing.T) *driver {
	d := &driver{t: t, now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
		card: &fakeCard{}, up: newFakeUpstream()}
	d.m = NewMachine(Options{
		Lang: LangZhTW, IdleTimeout: 60 * time.Second, WarningCountdown: 20 * time.Second,
		RemovedScreen: 4 * time.Second, MaxDuration: 20 * time.Minute,
		Now:   func() time.Time { return d.now },
		Log:   slog.New(slog.NewJSONHandler(&d.logs, nil)),
		NewID: func() string { d.ids++; return fmt.Sprintf("id%d", d.ids) },
		Card:  d.card, Upstream: d.up,
	})
	d.run(d.m.Start())
	t.Cleanup(d.checkLogs)
	return d
}

func (d *driver) run(jobs []Job) {
	for _, j := range jobs {
		d.run(d.m.Handle(j(context.Background())))
	}
}

func (d *driver) do(evs ...Event) {
	for _, ev := range evs {
		d.run(d.m.Handle(ev))
	}
}

func (d *driver) tap(ids ...string) {
	for _, id := range ids {
		d.do(Tap{ID: id})
	}
}

// typeIn focuses field f and types s into it.
func (d *driver) typeIn(f FieldID, s string) {
	d.tap("field." + string(f))
	d.do(Key{Text: KeyClear}, Key{Text: s})
}

func (d *driver) advance(dt time.Duration) {
	d.now = d.now.Add(dt)
	d.do(Tick{})
}

func (d *driver) wantScreen(want ScreenID) {
	d.t.Helper()
	if got := d.m.Screen(); got != want {
		d.t.Fatalf("screen = %s, want %s (errors %v)", got, want, d.errs())
	}
}

func (d *driver) errs() map[FieldID]string {
	if d.m.sess == nil {
		return nil
	}
	return d.m.sess.errs
}

// checkLogs fails the test if any personal data reached the log.
func (d *driver) checkLogs() {
	logs := d.logs.String()
	for _, pii := range []string{testID, testCard, testName, testEmail, testPassword, testHousehold, "A12", "0912345678"} {
		if strings.Contains(logs, pii) {
			d.t.Errorf("logs contain personal data %q:\n%s", pii, logs)
		}
	}
	if !strings.Contains(logs, `"step"`) {
		d.t.Errorf("logs have no step lines: %s", logs)
	}
}

// flowOf returns m's current flow as an F, failing the test if it is not
// one.
func flowOf[F flow](t testing.TB, m *Machine) F {
	t.Helper()
	f, ok := m.flow().(F)
	if !ok {
		var want F
		t.Fatalf("current flow is %T, want %T", m.flow(), want)
	}
	return f
}
