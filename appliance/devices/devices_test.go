package devices

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/divisions"
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
		Household: "F1234567", CountyCode: "09007", TownshipCode: "09007010", VillageCode: "09007010001", Neighbourhood: 3,
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
	bad.Mobile = "0812345678"
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
	unknown := r
	unknown.Identity = appliance.Identity{CardNumber: "900000000004", IDNumber: upstreamtest.IDNumber(4)}
	unknown.VillageCode = "09007010099" // 南竿鄉 has no 99th village
	_, err = u.Register(ctx, unknown)
	if !errors.As(err, &ue) || ue.Kind != appliance.KindInvalid || len(ue.Fields) != 1 ||
		ue.Fields[0] != (appliance.FieldProblem{Field: appliance.FieldAddress, Code: "unknown"}) {
		t.Errorf("Register in an unknown village = %v, want invalid with address:unknown", err)
	}
}

// TestCacheServesWhenDown fetches the lists once, takes the upstream away,
// and still gets them, from disk; the division list says it is a kept copy.
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
	if l, err := u.Divisions(ctx); err != nil || l.Cached || l.Version != divisions.BuiltinVersion {
		t.Fatalf("Divisions = version %q cached %v, %v", l.Version, l.Cached, err)
	}
	want, err := u.Terms(ctx, appliance.LangEn)
	if err != nil {
		t.Fatal(err)
	}
	down = true
	l, err := u.Divisions(ctx)
	if _, _, v := l.Counts(); err != nil || !l.Cached || v != 7747 || l.Version != divisions.BuiltinVersion {
		t.Errorf("Divisions while down = %d villages, cached %v, %v; want the kept copy", v, l.Cached, err)
	}
	if got, err := u.Terms(ctx, appliance.LangEn); err != nil || got != want {
		t.Errorf("Terms while down = %+v, %v; want the cached text", got, err)
	}
	u.CacheDir = t.TempDir()
	if _, err := u.Terms(ctx, appliance.LangEn); !errors.Is(err, appliance.ErrUnavailable) {
		t.Errorf("Terms while down without a cache = %v, want ErrUnavailable", err)
	}
	if _, err := u.Divisions(ctx); !errors.Is(err, appliance.ErrUnavailable) {
		t.Errorf("Divisions while down without a cache = %v, want ErrUnavailable", err)
	}
}

// TestDivisionsETag: with a copy on disk the adapter asks whether the list
// changed; an unchanged list costs a 304 and answers the copy, a changed
// one (a village added upstream) replaces it.
func TestDivisionsETag(t *testing.T) {
	sim := upstreamtest.Start(t, server.Options{}, nil)
	var statuses []int
	var sent []string
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		sim.Server.Handler().ServeHTTP(rec, r)
		if r.URL.Path == upstream.PathDivisions {
			statuses, sent = append(statuses, rec.Code), append(sent, r.Header.Get("If-None-Match"))
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	defer front.Close()
	u := Upstream{Client: upstream.New(upstream.Options{BaseURL: front.URL, Attempts: 1, Timeout: 5 * time.Second}), CacheDir: t.TempDir()}
	ctx := t.Context()
	for range 2 {
		if l, err := u.Divisions(ctx); err != nil || l.Cached || len(l.Counties) != 22 {
			t.Fatalf("Divisions = %d counties, cached %v, %v", len(l.Counties), l.Cached, err)
		}
	}
	l, err := server.ParseDivisions(strings.NewReader(divisions.HeaderLine+
		"09007,連江縣,Lienchiang County,09007010,南竿鄉,Nangan Township,09007010001,介壽村,Jieshou Vil.\n"), "2030-01-01")
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Server.SetDivisions(l); err != nil {
		t.Fatal(err)
	}
	got, err := u.Divisions(ctx)
	if err != nil || got.Version != "2030-01-01" || len(got.Counties) != 1 {
		t.Fatalf("after the upstream's list changed: version %q, %d counties, %v", got.Version, len(got.Counties), err)
	}
	if len(statuses) != 3 || statuses[0] != 200 || statuses[1] != 304 || statuses[2] != 200 || sent[0] != "" || sent[1] == "" || sent[2] != sent[1] {
		t.Errorf("requests: statuses %v, If-None-Match %q; want 200, 304, 200 with the first list's ETag", statuses, sent)
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
		Household: "F1234567", CountyCode: "09007", TownshipCode: "09007010", VillageCode: "09007010001", Neighbourhood: 3,
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
	if err := s.RemoveDevice(ctx, "00112233445566aa"); kind(err) != appliance.KindNotRegistered {
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
