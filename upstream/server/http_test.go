package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

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
	divs, err := c.Divisions(t.Context())
	if err != nil || !divs.Has("連江縣", "東引鄉", "樂華村") {
		t.Errorf("Divisions lack 連江縣 東引鄉 樂華村 (err %v)", err)
	}
}

func TestParseDivisions(t *testing.T) {
	d, err := server.ParseDivisions(strings.NewReader("\ufeffcounty,township,village\n臺北市,中正區,建國里\n臺北市,中正區,光復里\n臺北市,大安區,學府里\n臺北市,中正區,建國里\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Counties) != 1 || len(d.Counties[0].Townships) != 2 || len(d.Counties[0].Townships[0].Villages) != 2 {
		t.Errorf("tree = %+v", d)
	}
	for _, bad := range []string{"", "a,b\n", "a,,c\n"} {
		if _, err := server.ParseDivisions(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseDivisions(%q) accepted", bad)
		}
	}
	if n := len(server.Sample().Counties); n != 2 {
		t.Errorf("Sample has %d counties, want 2", n)
	}
}

func FuzzParseDivisions(f *testing.F) {
	f.Add("county,township,village\n連江縣,南竿鄉,介壽村\n")
	f.Add("a,b,c\n\"x\"\"\",y,z\n")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := server.ParseDivisions(strings.NewReader(s))
		if err == nil && len(d.Counties) == 0 {
			t.Fatal("no error and no counties")
		}
	})
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
