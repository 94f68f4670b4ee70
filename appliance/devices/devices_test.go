package devices

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

func TestCardReadsAndWatches(t *testing.T) {
	d := readertest.NewDevice("test")
	out := make(chan appliance.Event, 4)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- WatchCards(ctx, d, out) }()
	card, err := readertest.NewCard(readertest.TestOne)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Insert(card); err != nil {
		t.Fatal(err)
	}
	if ev := <-out; ev != (appliance.CardInserted{}) {
		t.Fatalf("event = %#v, want CardInserted", ev)
	}
	p, err := Card{Device: d}.ReadProfile(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if string(p.IDNumber) != readertest.TestOne.IDNumber || string(p.Name) != readertest.TestOne.Name || string(p.BirthDate) != "1990-01-02" {
		t.Errorf("profile does not match the card")
	}
	d.Remove()
	if ev := <-out; ev != (appliance.CardRemoved{}) {
		t.Fatalf("event = %#v, want CardRemoved", ev)
	}
	if _, err := (Card{Device: d}).ReadProfile(t.Context()); CardErrorKey(err) != "card.error.no_card" {
		t.Errorf("read without a card: %v (key %s)", err, CardErrorKey(err))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("WatchCards = %v", err)
	}
	if _, ok := <-out; ok {
		t.Errorf("events channel not closed")
	}
}

// TestUpstreamErrors checks the mapping of the API's answers to the
// wizard's kinds and fields against a real nhisim.
func TestUpstreamErrors(t *testing.T) {
	sim := upstreamtest.Start(t, server.Options{}, nil)
	u := Upstream{Client: upstream.New(upstream.Options{BaseURL: sim.URL, Attempts: 1, CardProver: upstreamtest.Genuine}), KioskID: "t-1", CacheDir: t.TempDir()}
	ctx := t.Context()
	id := appliance.Identity{CardNumber: "900000000001", IDNumber: upstreamtest.IDNumber(1)}
	var ue *appliance.UpstreamError
	if err := u.Resend(ctx, id); !errors.As(err, &ue) || ue.Kind != appliance.KindNotRegistered {
		t.Errorf("Resend of nobody = %v, want not_registered", err)
	}
	r := appliance.Registration{TermsVersion: server.DefaultTerms().Version, Identity: id, Name: "測試一", BirthDate: "1980-01-02",
		Household: "F1234567", County: "連江縣", Township: "南竿鄉", Village: "介壽村", Neighbourhood: 3,
		Password: "Test1!pw", PhoneArea: "02", PhoneNumber: "23456789", Mobile: "0912345678", Email: "x@example.com"}
	if rc, err := u.Register(ctx, r); err != nil || rc.Reference == "" || rc.Queued {
		t.Fatalf("Register = %+v, %v", rc, err)
	}
	if _, err := u.Register(ctx, r); !errors.As(err, &ue) || ue.Kind != appliance.KindAlreadyRegistered {
		t.Errorf("second Register = %v, want already_registered", err)
	}
	if err := u.Verify(ctx, id, "000000"); !errors.As(err, &ue) || ue.Kind != appliance.KindBadCode {
		t.Errorf("Verify with a wrong code = %v, want bad_code", err)
	}
	if err := u.Cancel(ctx, id, "Wrong1!x"); !errors.As(err, &ue) || ue.Kind != appliance.KindWrongPassword {
		t.Errorf("Cancel with a wrong password = %v, want wrong_password", err)
	}
	if err := u.RequestReset(ctx, id); !errors.As(err, &ue) || ue.Kind != appliance.KindNotActive {
		t.Errorf("RequestReset while pending = %v, want not_active", err)
	}
	bad := r
	bad.Identity = appliance.Identity{CardNumber: "900000000002", IDNumber: upstreamtest.IDNumber(2)}
	bad.Mobile, bad.Village = "0812345678", "無此村"
	_, err := u.Register(ctx, bad)
	if !errors.As(err, &ue) || ue.Kind != appliance.KindInvalid {
		t.Fatalf("Register with a bad mobile = %v, want invalid", err)
	}
	found := map[appliance.FieldID]bool{}
	for _, f := range ue.Fields {
		found[f.Field] = true
	}
	if !found[appliance.FieldMobile] {
		t.Errorf("fields = %+v, want mobile", ue.Fields)
	}
}

// TestCacheServesWhenDown fetches the lists once, takes the upstream away,
// and still gets them, from disk.
func TestCacheServesWhenDown(t *testing.T) {
	sim := upstreamtest.Start(t, server.Options{}, nil)
	down := false
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		sim.Server.Handler().ServeHTTP(w, r)
	}))
	defer front.Close()
	dir := filepath.Join(t.TempDir(), "cache")
	u := Upstream{Client: upstream.New(upstream.Options{BaseURL: front.URL, Attempts: 1, Timeout: 5 * time.Second}), CacheDir: dir}
	ctx := t.Context()
	if _, err := u.Divisions(ctx); err != nil {
		t.Fatal(err)
	}
	want, err := u.Terms(ctx, appliance.LangEn)
	if err != nil {
		t.Fatal(err)
	}
	down = true
	ds, err := u.Divisions(ctx)
	if err != nil || len(ds) == 0 || ds[0].Zh == "" {
		t.Errorf("Divisions while down = %d, %v; want the cached list", len(ds), err)
	}
	if got, err := u.Terms(ctx, appliance.LangEn); err != nil || got != want {
		t.Errorf("Terms while down = %+v, %v; want the cached text", got, err)
	}
	u.CacheDir = t.TempDir()
	if _, err := u.Terms(ctx, appliance.LangEn); !errors.Is(err, appliance.ErrUnavailable) {
		t.Errorf("Terms while down without a cache = %v, want ErrUnavailable", err)
	}
}

// TestAccountErrors checks the account services' answers against a real
// nhisim: not active, wrong password, locked, an ended session, a device
// that is not the account's.
func TestAccountErrors(t *testing.T) {
	mb := upstreamtest.NewMailbox()
	sim := upstreamtest.Start(t, server.Options{Mailer: mb}, nil)
	u := Upstream{Client: upstream.New(upstream.Options{BaseURL: sim.URL, Attempts: 1, Timeout: 5 * time.Second, CardProver: upstreamtest.Genuine}), KioskID: "t-1"}
	ctx := t.Context()
	id := appliance.Identity{CardNumber: "900000000003", IDNumber: upstreamtest.IDNumber(3)}
	r := appliance.Registration{TermsVersion: server.DefaultTerms().Version, Identity: id, Name: "測試一", BirthDate: "1980-01-02",
		Household: "F1234567", County: "連江縣", Township: "南竿鄉", Village: "介壽村", Neighbourhood: 3,
		Password: "Test1!pw", PhoneArea: "02", PhoneNumber: "23456789", Mobile: "0912345678", Email: "y@example.com"}
	if _, err := u.Register(ctx, r); err != nil {
		t.Fatal(err)
	}
	kind := func(err error) string {
		var ue *appliance.UpstreamError
		if errors.As(err, &ue) {
			return ue.Kind
		}
		return "not an UpstreamError"
	}
	if _, err := u.Login(ctx, id, "Test1!pw"); kind(err) != appliance.KindNotActive {
		t.Errorf("Login while pending = %v, want not_active", err)
	}
	if err := u.Verify(ctx, id, mb.WaitCode(t, "y@example.com", 1)); err != nil {
		t.Fatal(err)
	}
	s, err := u.Login(ctx, id, "Test1!pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveDevice(ctx, "no-such-device"); kind(err) != appliance.KindNotRegistered {
		t.Errorf("RemoveDevice of another's = %v, want not_registered", err)
	}
	if _, err := s.ChangeContact(ctx, appliance.Contact{Mobile: "0812345678", Email: "y@example.com"}); kind(err) != appliance.KindInvalid {
		t.Errorf("ChangeContact with a bad mobile = %v, want invalid", err)
	}
	if err := s.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Devices(ctx); kind(err) != appliance.KindUnauthorized {
		t.Errorf("Devices after Logout = %v, want unauthorized", err)
	}
	for i := range 5 {
		_, err := u.Login(ctx, id, "Wrong1!x")
		if want := appliance.KindWrongPassword; i == 4 {
			want = appliance.KindAccountLocked
			if kind(err) != want {
				t.Errorf("5th wrong Login = %v, want %s", err, want)
			}
		} else if kind(err) != want {
			t.Errorf("wrong Login %d = %v, want %s", i+1, err, want)
		}
	}
}
