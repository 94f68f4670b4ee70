package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/cardsim"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// holder is the virtual card of a registration's person.
func holder(t *testing.T, p upstream.Registration) *readertest.Card {
	t.Helper()
	c, err := readertest.NewCard(readertest.Person{CardNumber: p.CardNumber, IDNumber: p.IDNumber, Name: "測試",
		BirthDate: time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC), Sex: 'M', IssueDate: time.Date(2010, 1, 4, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// authenticate runs the kiosk's side of an exchange for purpose: card in
// a virtual reader, the reader's relay, the client's exchange.
func authenticate(t *testing.T, c *upstream.Client, purpose string, card *readertest.Card) (string, error) {
	t.Helper()
	d := readertest.NewDevice("virtual")
	if err := d.Insert(card); err != nil {
		t.Fatal(err)
	}
	ex := c.NewCardAuth(purpose)
	if err := d.Authenticate(context.Background(), ex); err != nil {
		return "", err
	}
	return ex.Proof()
}

// plain is a client without a prover: each call says what proof it has.
func plain(e *env) *upstream.Client {
	return upstream.New(upstream.Options{BaseURL: e.sim.URL, Attempts: 1})
}

func TestCardAuthGenuine(t *testing.T) {
	e := newEnv(t)
	c := plain(e)
	p := upstreamtest.Person(100)
	proof, err := authenticate(t, c, upstream.PurposeRegistration, holder(t, p))
	if err != nil || proof == "" {
		t.Fatalf("card authentication = %q, %v", proof, err)
	}
	p.CardAuth = proof
	if _, err := c.Register(context.Background(), p); err != nil {
		t.Fatalf("Register with the proof: %v", err)
	}
	// Used up: the same proof does not open a second call.
	if _, err := c.Register(context.Background(), p); upstream.Code(err) != upstream.ErrCodeCardAuthInvalid {
		t.Errorf("Register with a used proof = %v, want %s", err, upstream.ErrCodeCardAuthInvalid)
	}
	// The record keeps no proof.
	code := e.box.WaitCode(t, p.Contact.Email, 1)
	vproof, err := authenticate(t, c, upstream.PurposeVerification, holder(t, p))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(context.Background(), p.CardNumber, p.IDNumber, code, upstream.WithCardAuth(vproof)); err != nil {
		t.Errorf("Verify with its proof: %v", err)
	}
}

// Every call that needs a proof refuses one without, and one made for
// another purpose, card or time.
func TestCardAuthProofChecks(t *testing.T) {
	e := newEnv(t)
	c := plain(e)
	ctx := context.Background()
	p := e.active(t, 101)
	q := upstreamtest.Person(102)
	proofFor := func(purpose string, r upstream.Registration) string {
		t.Helper()
		pr, err := authenticate(t, c, purpose, holder(t, r))
		if err != nil {
			t.Fatal(err)
		}
		return pr
	}
	calls := map[string]func(proof string) error{
		upstream.PurposeRegistration: func(pr string) error {
			r := q
			r.CardAuth = pr
			_, err := c.Register(ctx, r)
			return err
		},
		upstream.PurposeVerification: func(pr string) error {
			return c.Verify(ctx, p.CardNumber, p.IDNumber, "123456", upstream.WithCardAuth(pr))
		},
		upstream.PurposePasswordReset: func(pr string) error {
			return c.PasswordResetConfirm(ctx, p.CardNumber, p.IDNumber, "123456", "New1!pwd", upstream.WithCardAuth(pr))
		},
		upstream.PurposeCancellation: func(pr string) error {
			return c.Cancel(ctx, p.CardNumber, p.IDNumber, p.Password, upstream.WithCardAuth(pr))
		},
		upstream.PurposeLogin: func(pr string) error {
			_, err := c.Login(ctx, p.CardNumber, p.IDNumber, p.Password, upstream.WithCardAuth(pr))
			return err
		},
	}
	for purpose, call := range calls {
		t.Run(purpose, func(t *testing.T) {
			if err := call(""); upstream.Code(err) != upstream.ErrCodeCardAuthRequired {
				t.Errorf("without a proof: %v, want %s", err, upstream.ErrCodeCardAuthRequired)
			}
			other := upstream.PurposeLogin
			if purpose == other {
				other = upstream.PurposeCancellation
			}
			if err := call(proofFor(other, p)); upstream.Code(err) != upstream.ErrCodeCardAuthInvalid {
				t.Errorf("with a %s proof: %v, want %s", other, err, upstream.ErrCodeCardAuthInvalid)
			}
			stranger := upstreamtest.Person(103)
			if purpose == upstream.PurposeRegistration {
				stranger = p // a registration of q with p's card's proof
			}
			if err := call(proofFor(purpose, stranger)); upstream.Code(err) != upstream.ErrCodeCardAuthInvalid {
				t.Errorf("with another card's proof: %v, want %s", err, upstream.ErrCodeCardAuthInvalid)
			}
			if err := call("not-a-proof"); upstream.Code(err) != upstream.ErrCodeCardAuthInvalid {
				t.Errorf("with garbage: %v, want %s", err, upstream.ErrCodeCardAuthInvalid)
			}
			who := p
			if purpose == upstream.PurposeRegistration {
				who = q
			}
			late := proofFor(purpose, who)
			e.clk.add(upstream.CardAuthProofLifetime + time.Second)
			if err := call(late); upstream.Code(err) != upstream.ErrCodeCardAuthInvalid {
				t.Errorf("with an expired proof: %v, want %s", err, upstream.ErrCodeCardAuthInvalid)
			}
		})
	}
}

// A registration queued with its proof is accepted from the outbox long
// after the proof's online lifetime.
func TestCardAuthQueuedProof(t *testing.T) {
	e := newEnv(t)
	p := upstreamtest.Person(104)
	p.CardAuth = e.sim.Proof(t, upstream.PurposeRegistration, p.CardNumber, p.IDNumber)
	ob, err := upstream.OpenOutbox(t.TempDir(), e.sim.Recipient, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Enqueue(upstream.NewIdempotencyKey(), mustJSON(t, p)); err != nil {
		t.Fatal(err)
	}
	e.clk.add(48 * time.Hour)
	if err := ob.Flush(context.Background(), plain(e).SendQueued); err != nil {
		t.Fatal(err)
	}
	if n, _ := ob.Dead(); n != 0 {
		t.Fatalf("the queued registration became a dead letter")
	}
	e.box.WaitCode(t, p.Contact.Email, 1)
	// Without a proof it is kept as a dead letter: the upstream refused it.
	q := upstreamtest.Person(105)
	if err := ob.Enqueue(upstream.NewIdempotencyKey(), mustJSON(t, q)); err != nil {
		t.Fatal(err)
	}
	if err := ob.Flush(context.Background(), plain(e).SendQueued); err != nil {
		t.Fatal(err)
	}
	if n, _ := ob.Dead(); n != 1 {
		t.Errorf("Dead = %d, want the registration without a proof", n)
	}
}

func TestCardAuthNotGenuine(t *testing.T) {
	e := newEnv(t)
	c := plain(e)
	p := upstreamtest.Person(106)
	for name, change := range map[string]func(c *readertest.Card){
		"wrong key": func(c *readertest.Card) {
			c.Key = readertest.WrongKey(readertest.Person{CardNumber: p.CardNumber, IDNumber: p.IDNumber})
		},
		"profile only":  func(c *readertest.Card) { c.Key, c.Cert = nil, nil },
		"no key":        func(c *readertest.Card) { c.Key = nil },
		"forged cert":   func(c *readertest.Card) { c.Cert[30] ^= 0x40 },
		"other's cert":  func(c *readertest.Card) { c.Cert = holder(t, upstreamtest.Person(107)).Cert },
		"replayed sigs": func(c *readertest.Card) { c.Replay = make([]byte, 64) },
	} {
		t.Run(name, func(t *testing.T) {
			card := holder(t, p)
			change(card)
			proof, err := authenticate(t, c, upstream.PurposeRegistration, card)
			var ue *upstream.Error
			if proof != "" || upstream.Code(err) != upstream.ErrCodeCardNotGenuine || !errors.As(err, &ue) || ue.Status != http.StatusForbidden {
				t.Fatalf("card authentication = %q, %v; want 403 %s", proof, err, upstream.ErrCodeCardNotGenuine)
			}
		})
	}
}

// recorder is a relay that keeps what it relayed, as a hostile kiosk
// would, and can answer with what it kept instead.
type recorder struct {
	*upstream.CardAuth
	responses [][]byte
	replay    [][]byte
}

func (r *recorder) Continue(ctx context.Context, rs [][]byte) ([][]byte, error) {
	if r.replay != nil {
		rs = r.replay
	}
	for _, x := range rs {
		r.responses = append(r.responses, bytes.Clone(x))
	}
	return r.CardAuth.Continue(ctx, rs)
}

// Answers recorded in one exchange do not authenticate another, and an
// exchange answers its decided round once (a retry gets the same reply,
// anything else 409).
func TestCardAuthReplay(t *testing.T) {
	e := newEnv(t)
	c := plain(e)
	p := upstreamtest.Person(108)
	card := holder(t, p)
	d := readertest.NewDevice("virtual")
	if err := d.Insert(card); err != nil {
		t.Fatal(err)
	}
	first := &recorder{CardAuth: c.NewCardAuth(upstream.PurposeRegistration)}
	if err := d.Authenticate(context.Background(), first); err != nil {
		t.Fatalf("genuine card: %v", err)
	}
	// The same answers in a new exchange: its challenge is new.
	second := &recorder{CardAuth: c.NewCardAuth(upstream.PurposeRegistration), replay: first.responses}
	err := d.Authenticate(context.Background(), second)
	if upstream.Code(err) != upstream.ErrCodeCardNotGenuine {
		t.Errorf("replayed answers in a new exchange = %v, want %s", err, upstream.ErrCodeCardNotGenuine)
	}
	// Straight at the API: start an exchange, answer it with the first
	// exchange's answers.
	s, err := c.CardAuthBegin(context.Background(), upstream.CardAuthBegin{Protocol: upstream.CardAuthProtocol,
		Purpose: upstream.PurposeRegistration, CardNumber: p.CardNumber, IDNumber: p.IDNumber})
	if err != nil {
		t.Fatal(err)
	}
	var rs []upstream.CardResponse
	for _, r := range first.responses {
		rs = append(rs, upstream.CardResponse{Data: r[:len(r)-2], SW: "9000"})
	}
	if _, err := c.CardAuthRespond(context.Background(), upstream.CardAuthRespond{AuthID: s.AuthID, Round: 1, Responses: rs}); upstream.Code(err) != upstream.ErrCodeCardNotGenuine {
		t.Errorf("recorded answers = %v, want %s", err, upstream.ErrCodeCardNotGenuine)
	}
	// The same request again is a retry: the same answer.
	_, err2 := c.CardAuthRespond(context.Background(), upstream.CardAuthRespond{AuthID: s.AuthID, Round: 1, Responses: rs})
	if upstream.Code(err2) != upstream.ErrCodeCardNotGenuine {
		t.Errorf("retry = %v, want the same %s", err2, upstream.ErrCodeCardNotGenuine)
	}
	// Other answers to a decided exchange: refused.
	_, err = c.CardAuthRespond(context.Background(), upstream.CardAuthRespond{AuthID: s.AuthID, Round: 1, Responses: rs[:1]})
	if upstream.Code(err) != upstream.ErrCodeCardAuthRound {
		t.Errorf("answers to a decided exchange = %v, want %s", err, upstream.ErrCodeCardAuthRound)
	}
	_, err = c.CardAuthRespond(context.Background(), upstream.CardAuthRespond{AuthID: "no-such-exchange", Round: 1})
	if upstream.Code(err) != upstream.ErrCodeNotFound {
		t.Errorf("unknown exchange = %v, want %s", err, upstream.ErrCodeNotFound)
	}
}

func TestCardAuthExpires(t *testing.T) {
	e := newEnv(t)
	c := plain(e)
	p := upstreamtest.Person(109)
	s, err := c.CardAuthBegin(context.Background(), upstream.CardAuthBegin{Protocol: upstream.CardAuthProtocol,
		Purpose: upstream.PurposeLogin, CardNumber: p.CardNumber, IDNumber: p.IDNumber})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.ExpiresAt.Sub(e.clk.now()), upstream.CardAuthTimeout; got != want {
		t.Errorf("exchange lives %v, want %v", got, want)
	}
	e.clk.add(upstream.CardAuthTimeout + time.Second)
	_, err = c.CardAuthRespond(context.Background(), upstream.CardAuthRespond{AuthID: s.AuthID, Round: 1})
	if upstream.Code(err) != upstream.ErrCodeExpired {
		t.Errorf("late answers = %v, want %s", err, upstream.ErrCodeExpired)
	}
}

func TestCardAuthBadRequests(t *testing.T) {
	e := newEnv(t)
	url := e.sim.URL
	begin := func(v map[string]any) (int, string) {
		resp, b := do(t, "POST", url+upstream.PathCardAuth, "", upstream.ContentJSON, mustJSON(t, v))
		var eb upstream.ErrorBody
		json.Unmarshal(b, &eb)
		if eb.Error == nil {
			return resp.StatusCode, ""
		}
		return resp.StatusCode, eb.Error.Code
	}
	p := upstreamtest.Person(110)
	good := func() map[string]any {
		return map[string]any{"protocol": upstream.CardAuthProtocol, "purpose": "login", "card_number": p.CardNumber, "id_number": p.IDNumber}
	}
	for name, tc := range map[string]struct {
		change func(v map[string]any)
		status int
		code   string
	}{
		"good":             {func(map[string]any) {}, 201, ""},
		"protocol v2":      {func(v map[string]any) { v["protocol"] = "nhikiosk-card-auth/2" }, 400, upstream.ErrCodeCardAuthProtocol},
		"no protocol":      {func(v map[string]any) { delete(v, "protocol") }, 400, upstream.ErrCodeCardAuthProtocol},
		"unknown purpose":  {func(v map[string]any) { v["purpose"] = "anything" }, 422, upstream.ErrCodeInvalid},
		"bad ID":           {func(v map[string]any) { v["id_number"] = "A123456788" }, 422, upstream.ErrCodeInvalid},
		"long ATR":         {func(v map[string]any) { v["atr"] = make([]byte, 34) }, 422, upstream.ErrCodeInvalid},
		"unknown field":    {func(v map[string]any) { v["challenge"] = "x" }, 400, upstream.ErrCodeBadRequest},
		"card number type": {func(v map[string]any) { v["card_number"] = 12 }, 400, upstream.ErrCodeBadRequest},
	} {
		t.Run(name, func(t *testing.T) {
			v := good()
			tc.change(v)
			if status, code := begin(v); status != tc.status || code != tc.code {
				t.Errorf("begin = %d %q, want %d %q", status, code, tc.status, tc.code)
			}
		})
	}
	respond := func(body string) (int, string) {
		resp, b := do(t, "POST", url+upstream.PathCardAuthRespond, "", upstream.ContentJSON, []byte(body))
		var eb upstream.ErrorBody
		json.Unmarshal(b, &eb)
		return resp.StatusCode, eb.Error.Code
	}
	for body, want := range map[string]string{
		`{"auth_id":"x","round":1,"responses":[{"data":"","sw":"90"}]}`:                                   upstream.ErrCodeInvalid,
		`{"auth_id":"x","round":0,"responses":[]}`:                                                        upstream.ErrCodeInvalid,
		`{"auth_id":"x","round":5,"responses":[]}`:                                                        upstream.ErrCodeInvalid,
		`{"auth_id":"","round":1,"responses":[]}`:                                                         upstream.ErrCodeInvalid,
		`{"auth_id":"x","round":1,"responses":[{"data":"` + strings.Repeat("A", 400) + `","sw":"9000"}]}`: upstream.ErrCodeInvalid,
		`{"auth_id":"x","round":1,"responses":[],"extra":1}`:                                              upstream.ErrCodeBadRequest,
		`{"auth_id":"x","round":1,"responses":[{"data":"!!","sw":"9000"}]}`:                               upstream.ErrCodeBadRequest,
		`{"auth_id":"x","round":1,"responses":[{"data":"","sw":"9000"}]}`:                                 upstream.ErrCodeNotFound,
	} {
		if _, code := respond(body); code != want {
			t.Errorf("respond %s = %s, want %s", body, code, want)
		}
	}
}

// An upstream without card authentication says so, and its calls need no
// proof.
func TestCardAuthOff(t *testing.T) {
	sim := upstreamtest.Start(t, server.Options{CardAuth: server.CardAuthOff}, nil)
	c := upstream.New(upstream.Options{BaseURL: sim.URL, Attempts: 1})
	p := upstreamtest.Person(111)
	proof, err := authenticate(t, c, upstream.PurposeRegistration, holder(t, p))
	if err != nil || proof != "" {
		t.Fatalf("card authentication at an upstream without it = %q, %v; want no proof, no error", proof, err)
	}
	if _, err := c.Register(context.Background(), p); err != nil {
		t.Errorf("Register without a proof: %v", err)
	}
	if _, err := server.New(server.Options{DBPath: t.TempDir() + "/x.db", Identity: sim.Identity, CardAuth: "maybe"}); err == nil {
		t.Errorf("server.New accepted card authentication \"maybe\"")
	}
}

// greedyModule wraps the simulation and breaks the protocol as told: more
// commands than a batch holds, or rounds without end.
type greedyModule struct {
	batch   int  // commands in the first batch (0: the simulation's)
	forever bool // ask for another round every time
}

func (g greedyModule) Name() string { return "greedy-test-module" }

func (g greedyModule) Begin(c server.CardClaim) (server.CardSession, [][]byte, error) {
	s, cmds, err := server.SimModule().Begin(c)
	for len(cmds) < g.batch {
		cmds = append(cmds, bytes.Clone(cardsim.GetCertificate))
	}
	return greedySession{s, g}, cmds, err
}

type greedySession struct {
	server.CardSession
	g greedyModule
}

func (s greedySession) Next(as []server.CardAnswer) ([][]byte, error) {
	if s.g.forever {
		return [][]byte{bytes.Clone(cardsim.GetCertificate)}, nil
	}
	return s.CardSession.Next(as)
}

// cardsimBatch is the simulation's one batch.
var cardsimBatch = [][]byte{cardsim.SelectNHI, cardsim.GetCertificate, cardsim.InternalAuthenticate(make([]byte, 32))}

// The upstream holds its module to the protocol's limits, and so does the
// kiosk's relay: neither runs away.
func TestCardAuthModuleLimits(t *testing.T) {
	for name, g := range map[string]greedyModule{"batch of 9": {batch: 9}, "endless rounds": {forever: true}} {
		t.Run(name, func(t *testing.T) {
			sim := upstreamtest.Start(t, server.Options{CardModule: g}, nil)
			c := upstream.New(upstream.Options{BaseURL: sim.URL, Attempts: 1})
			card := holder(t, upstreamtest.Person(112))
			_, err := authenticate(t, c, upstream.PurposeLogin, card)
			var ue *upstream.Error
			if !errors.As(err, &ue) || ue.Status != 500 {
				t.Fatalf("card authentication = %v, want the upstream's 500", err)
			}
			// The profile read, the first batch, and one more command in
			// each of the rounds the protocol allows.
			if n, most := len(card.Commands()), 2+len(cardsimBatch)+upstream.CardAuthMaxRounds-1; n > most {
				t.Errorf("the card got %d commands, want at most %d", n, most)
			}
		})
	}
}

// The log of an exchange holds counts and status words, and none of the
// card's data.
func TestCardAuthLogs(t *testing.T) {
	var logs bytes.Buffer
	sim := upstreamtest.Start(t, server.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}, nil)
	c := upstream.New(upstream.Options{BaseURL: sim.URL, Attempts: 1})
	p := upstreamtest.Person(113)
	card := holder(t, p)
	if _, err := authenticate(t, c, upstream.PurposeLogin, card); err != nil {
		t.Fatal(err)
	}
	bad := holder(t, p)
	bad.Key = readertest.WrongKey(readertest.Person{CardNumber: "x"})
	authenticate(t, c, upstream.PurposeLogin, bad)
	l := logs.String()
	for _, want := range []string{`"msg":"card check"`, `"sw":"9000,9000,9000"`, `"result":"genuine"`, `"result":"not_genuine"`, `"rounds":1`} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %s:\n%s", want, l)
		}
	}
	for _, secret := range []string{p.CardNumber, p.IDNumber, base64.StdEncoding.EncodeToString(card.Cert), base64.StdEncoding.EncodeToString(card.LastSignature()), "\"proof\""} {
		if strings.Contains(l, secret) {
			t.Errorf("log holds %q", secret)
		}
	}
}

// FuzzCardAuthRequests: no body to the exchange's endpoints makes the
// upstream fail (5xx) or answer anything but JSON.
func FuzzCardAuthRequests(f *testing.F) {
	sim := upstreamtest.Start(f, server.Options{}, nil)
	p := upstreamtest.Person(114)
	f.Add(false, mustJSON(f, upstream.CardAuthBegin{Protocol: upstream.CardAuthProtocol, Purpose: "login", CardNumber: p.CardNumber, IDNumber: p.IDNumber}))
	f.Add(true, []byte(`{"auth_id":"x","round":1,"responses":[{"data":"kAA=","sw":"9000"}]}`))
	f.Add(true, []byte(`{"auth_id":"x","round":1,"responses":[{"data":null,"sw":"zzzz"}]}`))
	f.Fuzz(func(t *testing.T, respond bool, body []byte) {
		path := upstream.PathCardAuth
		if respond {
			path = upstream.PathCardAuthRespond
		}
		resp, b := do(t, "POST", sim.URL+path, "", upstream.ContentJSON, body)
		full := resp.StatusCode == 503 && bytes.Contains(b, []byte(upstream.ErrCodeUnavailable)) // too many open at once
		if (resp.StatusCode >= 500 && !full) || !json.Valid(b) {
			t.Fatalf("POST %s = %d %q", path, resp.StatusCode, b)
		}
	})
}
