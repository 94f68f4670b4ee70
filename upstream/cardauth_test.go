package upstream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// The API's limits are the relay's.
func TestCardAuthLimitsMatchRelay(t *testing.T) {
	for _, c := range []struct {
		name       string
		api, kiosk int
	}{
		{"rounds", upstream.CardAuthMaxRounds, reader.MaxRelayRounds},
		{"commands", upstream.CardAuthMaxCommands, reader.MaxRelayBatch},
		{"command bytes", upstream.CardAuthMaxCommandBytes, reader.MaxRelayCommand},
		{"response bytes", upstream.CardAuthMaxResponseBytes, reader.MaxRelayResponse},
	} {
		if c.api != c.kiosk {
			t.Errorf("%s: API %d, relay %d", c.name, c.api, c.kiosk)
		}
	}
}

func TestCardAuthStepCheck(t *testing.T) {
	cmd := []byte{0x00, 0xB0, 0x00, 0x00, 0x00}
	ok := upstream.CardAuthStep{Protocol: upstream.CardAuthProtocol, Status: upstream.StatusContinue, AuthID: "a", Round: 1, Commands: [][]byte{cmd}}
	for name, tc := range map[string]struct {
		change func(s *upstream.CardAuthStep)
		ok     bool
	}{
		"continue":             {func(*upstream.CardAuthStep) {}, true},
		"authenticated":        {func(s *upstream.CardAuthStep) { s.Status, s.Commands, s.Proof = upstream.StatusAuthenticated, nil, "p" }, true},
		"not required":         {func(s *upstream.CardAuthStep) { s.Status, s.Commands = upstream.StatusNotRequired, nil }, true},
		"other protocol":       {func(s *upstream.CardAuthStep) { s.Protocol = "nhikiosk-card-auth/2" }, false},
		"unknown status":       {func(s *upstream.CardAuthStep) { s.Status = "maybe" }, false},
		"no commands":          {func(s *upstream.CardAuthStep) { s.Commands = nil }, false},
		"nine commands":        {func(s *upstream.CardAuthStep) { s.Commands = slicesRepeat(cmd, 9) }, false},
		"short command":        {func(s *upstream.CardAuthStep) { s.Commands = [][]byte{{0, 1, 2}} }, false},
		"long command":         {func(s *upstream.CardAuthStep) { s.Commands = [][]byte{make([]byte, 262)} }, false},
		"round 0":              {func(s *upstream.CardAuthStep) { s.Round = 0 }, false},
		"round 5":              {func(s *upstream.CardAuthStep) { s.Round = 5 }, false},
		"no auth id":           {func(s *upstream.CardAuthStep) { s.AuthID = "" }, false},
		"long auth id":         {func(s *upstream.CardAuthStep) { s.AuthID = strings.Repeat("a", 65) }, false},
		"proof too early":      {func(s *upstream.CardAuthStep) { s.Proof = "p" }, false},
		"authenticated no":     {func(s *upstream.CardAuthStep) { s.Status, s.Commands = upstream.StatusAuthenticated, nil }, false},
		"authenticated + cmds": {func(s *upstream.CardAuthStep) { s.Status, s.Proof = upstream.StatusAuthenticated, "p" }, false},
		"long proof": {func(s *upstream.CardAuthStep) {
			s.Status, s.Commands, s.Proof = upstream.StatusAuthenticated, nil, strings.Repeat("p", 129)
		}, false},
		"not required + cmds": {func(s *upstream.CardAuthStep) { s.Status = upstream.StatusNotRequired }, false},
	} {
		t.Run(name, func(t *testing.T) {
			s := ok
			tc.change(&s)
			err := s.Check()
			if got := err == nil; got != tc.ok {
				t.Fatalf("Check = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, upstream.ErrCardAuthAnswer) {
				t.Errorf("Check error %v does not wrap ErrCardAuthAnswer", err)
			}
		})
	}
}

func slicesRepeat(b []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = bytes.Clone(b)
	}
	return out
}

// A malformed or out-of-order answer from the upstream ends the exchange
// at the kiosk before anything reaches the card.
func TestCardAuthClientRefusesBadAnswers(t *testing.T) {
	var answers []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[0]
		answers = answers[1:]
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/card-auth") {
			w.WriteHeader(201)
		}
		w.Write([]byte(a))
	}))
	defer srv.Close()
	c := upstream.New(upstream.Options{BaseURL: srv.URL, Attempts: 1})
	step := func(round int, id string) string {
		b, _ := json.Marshal(upstream.CardAuthStep{Protocol: upstream.CardAuthProtocol, Status: upstream.StatusContinue,
			AuthID: id, Round: round, Commands: [][]byte{{0x00, 0xB0, 0x00, 0x00, 0x00}}})
		return string(b)
	}
	for name, tc := range map[string][]string{
		"first round 2":     {step(2, "a")},
		"skips a round":     {step(1, "a"), step(3, "a")},
		"another exchange":  {step(1, "a"), step(2, "b")},
		"garbage":           {`{"protocol":`},
		"nine commands":     {`{"protocol":"nhikiosk-card-auth/1","status":"continue","auth_id":"a","round":1,"commands":["AAAAAA==","AAAAAA==","AAAAAA==","AAAAAA==","AAAAAA==","AAAAAA==","AAAAAA==","AAAAAA==","AAAAAA=="]}`},
		"authenticated, no": {step(1, "a"), `{"protocol":"nhikiosk-card-auth/1","status":"authenticated"}`},
	} {
		t.Run(name, func(t *testing.T) {
			answers = tc
			a := c.NewCardAuth(upstream.PurposeLogin)
			ctx := context.Background()
			_, err := a.Begin(ctx, "000012345678", "A123456789", nil)
			for err == nil && len(answers) > 0 {
				_, err = a.Continue(ctx, [][]byte{{0x90, 0x00}})
			}
			if !errors.Is(err, upstream.ErrCardAuthAnswer) {
				t.Errorf("exchange = %v, want ErrCardAuthAnswer", err)
			}
			if p, err := a.Proof(); p != "" || err == nil {
				t.Errorf("Proof = %q, %v after a broken exchange", p, err)
			}
		})
	}
}

// FuzzParseCardAuthStep: no answer from the upstream panics the kiosk,
// and whatever passes keeps the protocol's limits.
func FuzzParseCardAuthStep(f *testing.F) {
	f.Add(201, []byte(`{"protocol":"nhikiosk-card-auth/1","status":"continue","auth_id":"a","round":1,"commands":["ALAAAAA="]}`))
	f.Add(200, []byte(`{"protocol":"nhikiosk-card-auth/1","status":"authenticated","proof":"x","expires_at":"2026-01-01T00:00:00Z"}`))
	f.Add(403, []byte(`{"error":{"code":"card_not_genuine"}}`))
	f.Add(200, []byte(`{"protocol":"nhikiosk-card-auth/1","status":"not_required"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		s, err := upstream.ParseCardAuthStep(status, body)
		if err != nil {
			return
		}
		if status < 200 || status > 299 {
			t.Fatalf("status %d parsed as a step", status)
		}
		if len(s.Commands) > upstream.CardAuthMaxCommands || len(s.Proof) > upstream.CardAuthMaxProofBytes {
			t.Fatalf("over the limits: %+v", s)
		}
		for _, c := range s.Commands {
			if len(c) < 4 || len(c) > upstream.CardAuthMaxCommandBytes {
				t.Fatalf("a command of %d bytes", len(c))
			}
		}
	})
}
