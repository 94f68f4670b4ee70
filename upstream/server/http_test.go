package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/nhikiosk/nhikiosk/divisions"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func do(t testing.TB, method, url, key, ctype string, body []byte, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set(upstream.HeaderIdemKey, key)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func post(t testing.TB, url, key string, body []byte) (int, upstream.ErrorBody) {
	t.Helper()
	resp, b := do(t, http.MethodPost, url, key, upstream.ContentJSON, body)
	var eb upstream.ErrorBody
	json.Unmarshal(b, &eb)
	return resp.StatusCode, eb
}

func TestIdempotentReplay(t *testing.T) {
	e := newEnv(t)
	p := upstreamtest.Person(20)
	p.CardAuth = e.sim.Proof(t, upstream.PurposeRegistration, p.CardNumber, p.IDNumber)
	body := mustJSON(t, p)
	url := e.sim.URL + upstream.PathRegistrations
	r1, b1 := do(t, "POST", url, "same-key", upstream.ContentJSON, body)
	r2, b2 := do(t, "POST", url, "same-key", upstream.ContentJSON, body)
	if r1.StatusCode != 201 || r2.StatusCode != 201 || !bytes.Equal(b1, b2) {
		t.Fatalf("replay: %d %s / %d %s, want the same 201 twice", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	if r2.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("second answer not marked as replayed")
	}
	e.box.WaitCode(t, "test20@example.com", 1)
	if s := e.sim.Server.Stats(); s.Created != 1 || s.Replayed != 1 || s.Conflicts != 0 {
		t.Errorf("Stats = %+v, want 1 created, 1 replayed, 0 conflicts", s)
	}
	other := mustJSON(t, upstreamtest.Person(21))
	if status, eb := post(t, url, "same-key", other); status != 422 || eb.Error.Code != upstream.ErrCodeIdemKeyReused {
		t.Errorf("key reused for another body: %d %+v, want 422 %s", status, eb.Error, upstream.ErrCodeIdemKeyReused)
	}
	if n := len(e.box.To("test20@example.com")); n != 1 {
		t.Errorf("%d e-mails for one registration sent twice, want 1", n)
	}
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	good := mustJSON(t, upstreamtest.Person(22))
	unknown := bytes.Replace(good, []byte(`{"card_number"`), []byte(`{"nickname":"x","card_number"`), 1)
	tests := []struct {
		name, method, path, key, ctype string
		body                           []byte
		status                         int
		code                           string
	}{
		{"no key", "POST", upstream.PathRegistrations, "", upstream.ContentJSON, good, 400, upstream.ErrCodeIdemKeyRequired},
		{"key too long", "POST", upstream.PathRegistrations, strings.Repeat("k", 65), upstream.ContentJSON, good, 400, upstream.ErrCodeIdemKeyRequired},
		{"unknown field", "POST", upstream.PathRegistrations, "k1", upstream.ContentJSON, unknown, 400, upstream.ErrCodeBadRequest},
		{"not json", "POST", upstream.PathRegistrations, "k2", upstream.ContentJSON, []byte("{"), 400, upstream.ErrCodeBadRequest},
		{"trailing", "POST", upstream.PathVerifications, "k3", upstream.ContentJSON, []byte(`{} {}`), 400, upstream.ErrCodeBadRequest},
		{"wrong type", "POST", upstream.PathRegistrations, "k4", upstream.ContentJSON, []byte(`{"card_number":5}`), 400, upstream.ErrCodeBadRequest},
		{"form", "POST", upstream.PathRegistrations, "k5", "application/x-www-form-urlencoded", good, 415, upstream.ErrCodeUnsupportedType},
		{"age not for resend", "POST", upstream.PathResend, "k6", upstream.ContentAgeJSON, good, 415, upstream.ErrCodeUnsupportedType},
		{"garbage age", "POST", upstream.PathRegistrations, "k7", upstream.ContentAgeJSON, good, 400, upstream.ErrCodeUndecryptable},
		{"no such path", "GET", "/v2/things", "", "", nil, 404, upstream.ErrCodeNotFound},
		{"wrong method", "GET", upstream.PathRegistrations, "", "", nil, 405, upstream.ErrCodeMethod},
		{"bad code", "POST", upstream.PathVerifications, "k8", upstream.ContentJSON, []byte(`{"card_number":"900000000001","id_number":"A100000001","code":"12ab56"}`), 422, upstream.ErrCodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := do(t, tt.method, e.sim.URL+tt.path, tt.key, tt.ctype, tt.body)
			var eb upstream.ErrorBody
			if err := json.Unmarshal(b, &eb); err != nil || eb.Error == nil {
				t.Fatalf("body %q is not an error envelope: %v", b, err)
			}
			if resp.StatusCode != tt.status || eb.Error.Code != tt.code {
				t.Errorf("%s %s = %d %s, want %d %s", tt.method, tt.path, resp.StatusCode, eb.Error.Code, tt.status, tt.code)
			}
			if ct := resp.Header.Get("Content-Type"); ct != upstream.ContentJSON {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestETags(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{upstream.PathTerms, upstream.PathDivisions} {
		resp, _ := do(t, "GET", e.sim.URL+path, "", "", nil)
		tag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || tag == "" {
			t.Fatalf("GET %s = %d, ETag %q", path, resp.StatusCode, tag)
		}
		resp, _ = do(t, "GET", e.sim.URL+path, "", "", nil, "If-None-Match", tag)
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag = %d, want 304", path, resp.StatusCode)
		}
	}
	c := upstream.New(upstream.Options{BaseURL: e.sim.URL, CardProver: upstreamtest.Genuine})
	terms, err := c.Terms(t.Context())
	if err != nil || terms.Version != server.DefaultTerms().Version || terms.Text["zh-TW"] == "" || terms.Text["en"] == "" {
		t.Errorf("Terms = %+v, %v", terms.Version, err)
	}
	divs, tag, err := c.Divisions(t.Context(), "")
	if err != nil || tag == "" || divs.Version != divisions.BuiltinVersion {
		t.Fatalf("Divisions = version %q, ETag %q, %v", divs.Version, tag, err)
	}
	if _, _, v := divs.List().Address("09007", "09007040", "09007040002"); v == nil || v.Zh != "樂華村" || v.En != "Lehua Vil." {
		t.Errorf("Divisions lack 連江縣 東引鄉 樂華村 (Lehua Vil.): %+v", v)
	}
	if _, tag2, err := c.Divisions(t.Context(), tag); !errors.Is(err, upstream.ErrNotModified) || tag2 != tag {
		t.Errorf("Divisions with its ETag = %q, %v; want ErrNotModified", tag2, err)
	}
}

// TestDivisionsGzip: the list goes gzipped to clients that take it, and
// whole to those that do not.
func TestDivisionsGzip(t *testing.T) {
	e := newEnv(t)
	for _, enc := range []string{"gzip", "identity"} {
		req, _ := http.NewRequest("GET", e.sim.URL+upstream.PathDivisions, nil)
		req.Header.Set("Accept-Encoding", enc)
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get("Content-Encoding"); (got == "gzip") != (enc == "gzip") {
			t.Fatalf("Accept-Encoding %s: Content-Encoding %q", enc, got)
		}
		if enc == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		}
		var d upstream.Divisions
		if err := json.Unmarshal(body, &d); err != nil || d.Check() != nil {
			t.Fatalf("Accept-Encoding %s: %v %v", enc, err, d.Check())
		}
		if _, tw, v := d.List().Counts(); tw != 368 || v != 7747 {
			t.Errorf("Accept-Encoding %s: %d townships, %d villages", enc, tw, v)
		}
	}
}

// TestSetDivisions: a changed list (a village renamed) is served with a
// new ETag, so a kiosk asking with the old one gets it, and addresses are
// checked against it from then on.
func TestSetDivisions(t *testing.T) {
	e := newEnv(t)
	c := e.c
	_, tag, err := c.Divisions(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	l, err := server.ParseDivisions(strings.NewReader(divisions.HeaderLine+
		"09007,連江縣,Lienchiang County,09007010,南竿鄉,Nangan Township,09007010001,介壽村,Jieshou Vil.\n"+
		"09007,連江縣,Lienchiang County,09007010,南竿鄉,Nangan Township,09007010010,新村,New Vil.\n"), "2026-07-01")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Server.SetDivisions(l); err != nil {
		t.Fatal(err)
	}
	d, tag2, err := c.Divisions(t.Context(), tag)
	if err != nil || tag2 == tag || d.Version != "2026-07-01" || len(d.Counties) != 1 {
		t.Fatalf("after SetDivisions: version %q, ETag %q (was %q), %v", d.Version, tag2, tag, err)
	}
	p := upstreamtest.Person(41)
	p.Household.TownshipCode, p.Household.VillageCode = "09007010", "09007010010"
	if _, err := c.Register(t.Context(), p); err != nil {
		t.Errorf("register in the new village: %v", err)
	}
	p = upstreamtest.Person(42)
	p.Household.VillageCode = "09007010002" // 復興村: not in the new list
	_, err = c.Register(t.Context(), p)
	wantCode(t, "village dropped from the list", err, 422, upstream.ErrCodeInvalid)
	if err := e.sim.Server.SetDivisions(divisions.List{}); err == nil {
		t.Errorf("SetDivisions accepted an empty list")
	}
}

func TestParseDivisions(t *testing.T) {
	l, err := server.ParseDivisions(strings.NewReader(divisions.HeaderLine+
		"09007,連江縣,Lienchiang County,09007010,南竿鄉,Nangan Township,09007010001,介壽村,Jieshou Vil.\n"), "2026-01-31")
	if err != nil || l.Version != "2026-01-31" || len(l.Counties) != 1 {
		t.Fatalf("ParseDivisions = %+v, %v", l, err)
	}
	if _, err := server.ParseDivisions(strings.NewReader(divisions.HeaderLine), "2026-01-31"); err == nil {
		t.Errorf("ParseDivisions accepted a list without villages")
	}
	if _, err := server.ParseDivisions(strings.NewReader(""), "31.1.2026"); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Errorf("ParseDivisions with version 31.1.2026: %v", err)
	}
}

// FuzzRequests sends arbitrary bodies to every write endpoint: the answer
// is always a JSON error envelope or success, never a 5xx.
func FuzzRequests(f *testing.F) {
	sim := upstreamtest.Start(f, server.Options{}, nil)
	f.Add(0, mustJSON(f, upstreamtest.Person(30)))
	f.Add(1, []byte(`{"card_number":"900000000001","id_number":"A100000001","code":"123456"}`))
	f.Add(2, []byte(`{"card_number":null}`))
	f.Add(3, []byte(`{"code":"12345678","device_name":"測試手機"}`))
	f.Add(4, []byte(`{"card_number":"900000000001","id_number":"A100000001","password":"x"}`))
	paths := []string{upstream.PathRegistrations, upstream.PathVerifications, upstream.PathResend, upstream.PathCancel,
		upstream.PathResets, upstream.PathResetConfirm, upstream.PathBind, upstream.PathSessions}
	n := 0
	f.Fuzz(func(t *testing.T, which int, body []byte) {
		n++
		path := paths[(which%len(paths)+len(paths))%len(paths)]
		resp, b := do(t, "POST", sim.URL+path, "fuzz-"+strings.Repeat("x", n%10)+string(rune('a'+n%26)), upstream.ContentJSON, body)
		if resp.StatusCode >= 500 {
			t.Fatalf("POST %s = %d %s", path, resp.StatusCode, b)
		}
		if !json.Valid(b) {
			t.Fatalf("POST %s answered non-JSON %q", path, b)
		}
	})
}

// TestEndpointsServed: every operation of upstream.Endpoints (which the
// OpenAPI test ties to api/openapi.yaml) is routed, with its method only.
func TestEndpointsServed(t *testing.T) {
	e := newEnv(t)
	for _, ep := range upstream.Endpoints {
		other := "GET"
		if ep.Method == "GET" {
			other = "POST"
		}
		if resp, _ := do(t, other, e.sim.URL+ep.Path, "k", upstream.ContentJSON, nil); resp.StatusCode != 405 || resp.Header.Get("Allow") != ep.Method {
			t.Errorf("%s %s = %d, Allow %q; want 405 allowing %s", other, ep.Path, resp.StatusCode, resp.Header.Get("Allow"), ep.Method)
		}
		if resp, _ := do(t, ep.Method, e.sim.URL+ep.Path, "k", upstream.ContentJSON, []byte(`{}`)); resp.StatusCode == 404 || resp.StatusCode == 405 {
			t.Errorf("%s %s = %d, want it routed", ep.Method, ep.Path, resp.StatusCode)
		}
	}
}

// FuzzParseWait: the long-poll's ?wait= is either refused or within
// 0..MaxBindingWait.
func FuzzParseWait(f *testing.F) {
	for _, s := range []string{"", "25s", "25", "1500ms", "31s", "-1s", "1e9", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := server.ParseWait(s)
		if err == nil && (d < 0 || d > upstream.MaxBindingWait) {
			t.Fatalf("ParseWait(%q) = %v", s, d)
		}
	})
}
