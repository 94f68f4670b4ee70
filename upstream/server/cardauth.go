package server

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/cardsim"
)

// The card authentication exchange (issue 24): the upstream's security
// module authenticates the card in the kiosk's reader through the
// kiosk's relay, and a card it accepts earns a proof for one call
// (cardproof.go). Exchanges live in memory only: they last seconds
// (upstream.CardAuthTimeout), and one lost in a restart just makes the
// person's check fail and be tried again.

// CardModule is the security module that decides whether a card is
// genuine: nhisim's simulation (SimModule), or the NHI's own module behind
// an adapter. Begin may be called concurrently; a session's Next is
// called one at a time, within the request that brings the answers, so
// it should answer well within the kiosk's patience (seconds).
type CardModule interface {
	// Name identifies the module in answers and logs.
	Name() string
	// Begin starts authenticating the card the kiosk read, and returns
	// the first batch of command APDUs.
	Begin(c CardClaim) (CardSession, [][]byte, error)
}

// CardClaim is what the kiosk read from the card it wants authenticated.
type CardClaim struct {
	CardNumber, IDNumber string
	ATR                  []byte
}

// CardSession is one exchange of a CardModule.
type CardSession interface {
	// Next judges the card's answers to the last batch (there may be
	// fewer than commands: the kiosk stops at the first status other than
	// 9000). It returns the next batch, or none and the verdict: nil for a
	// genuine card, an error otherwise.
	Next(as []CardAnswer) ([][]byte, error)
}

// CardAnswer is the card's answer to one command.
type CardAnswer struct {
	Data []byte
	SW   uint16
}

// Modes of Options.CardAuth.
const (
	CardAuthOff = "off" // no card authentication: the exchange answers not_required, calls need no proof
	CardAuthSim = "sim" // SimModule
)

// SimModule is nhisim's security module: the simulation of upstream/
// cardsim, the reference of the protocol and NOT the NHI's algorithm.
// Only the virtual cards of reader/readertest pass it; no real card does.
func SimModule() CardModule { return simModule{} }

type simModule struct{ m cardsim.Module }

func (s simModule) Name() string { return s.m.Name() }

func (s simModule) Begin(c CardClaim) (CardSession, [][]byte, error) {
	sess, cmds, err := s.m.Begin(c.CardNumber, c.IDNumber)
	if err != nil {
		return nil, nil, err
	}
	return simSession{sess}, cmds, nil
}

type simSession struct{ s *cardsim.Session }

func (s simSession) Next(as []CardAnswer) ([][]byte, error) {
	out := make([]cardsim.Answer, len(as))
	for i, a := range as {
		out[i] = cardsim.Answer{Data: a.Data, SW: a.SW}
	}
	return s.s.Next(out)
}

// cardModule picks the module of o: CardModule if set, else by CardAuth.
func cardModule(o Options) (CardModule, error) {
	switch {
	case o.CardModule != nil:
		return o.CardModule, nil
	case o.CardAuth == CardAuthSim:
		return SimModule(), nil
	case o.CardAuth == CardAuthOff || o.CardAuth == "":
		return nil, nil
	}
	return nil, fmt.Errorf("server: card authentication %q: want %s or %s", o.CardAuth, CardAuthOff, CardAuthSim)
}

// maxExchanges bounds the exchanges open at once (memory): beyond it,
// begin answers 503 until some end.
const maxExchanges = 4096

// cardAuth keeps the open exchanges.
type cardAuth struct {
	module CardModule // nil: off
	mu     sync.Mutex
	open   map[string]*exchange
}

func newCardAuth(m CardModule) *cardAuth { return &cardAuth{module: m, open: map[string]*exchange{}} }

// exchange is one card authentication in progress (or just decided, kept
// until it expires to answer a retry of its last round the same way).
type exchange struct {
	// kiosk, purpose and expires never change; the rest is ex.mu's.
	mu                   sync.Mutex
	kiosk, purpose       string
	cardNumber, idNumber string // cleared once decided
	sess                 CardSession
	round                int
	batch                int // commands in the open round
	expires              time.Time
	decided              bool
	answers              int
	sws                  []string
	// last is the answer to the last round, for a retry of it.
	lastRound int
	lastHash  [32]byte
	last      answer
}

// purgeLocked drops expired exchanges; c.mu is held.
func (c *cardAuth) purgeLocked(now time.Time) {
	for id, ex := range c.open {
		if now.After(ex.expires) {
			delete(c.open, id)
		}
	}
}

func (s *Server) cardAuthBegin(w http.ResponseWriter, r *http.Request) {
	var b upstream.CardAuthBegin
	if a := s.cardAuthBody(r, &b); a != nil {
		writeAnswer(w, *a)
		return
	}
	if b.Protocol != upstream.CardAuthProtocol {
		writeAnswer(w, apiErr(http.StatusBadRequest, upstream.ErrCodeCardAuthProtocol, "this upstream speaks "+upstream.CardAuthProtocol))
		return
	}
	f := upstream.ValidateIdentify(b.CardNumber, b.IDNumber)
	if !validPurpose(b.Purpose) {
		f = append(f, upstream.FieldError{Field: "purpose", Code: "format", Message: "not a purpose of the card authentication"})
	}
	if len(b.ATR) > 33 { // ISO 7816-3: at most 33 bytes
		f = append(f, upstream.FieldError{Field: "atr", Code: "length", Message: "an ATR has at most 33 bytes"})
	}
	if len(f) > 0 {
		writeAnswer(w, invalid(f))
		return
	}
	c := s.cards
	if c.module == nil {
		writeAnswer(w, answer{status: http.StatusOK, body: upstream.CardAuthStep{Protocol: upstream.CardAuthProtocol, Status: upstream.StatusNotRequired}})
		return
	}
	sess, cmds, err := c.module.Begin(CardClaim{CardNumber: b.CardNumber, IDNumber: b.IDNumber, ATR: b.ATR})
	if err == nil {
		err = checkBatch(cmds)
	}
	if err != nil {
		s.o.Logger.Error("card module failed", "module", c.module.Name(), "step", "begin", "err", err)
		writeAnswer(w, apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "the security module failed"))
		return
	}
	now := s.o.Now()
	ex := &exchange{kiosk: kiosk(r), purpose: b.Purpose, cardNumber: b.CardNumber, idNumber: b.IDNumber,
		sess: sess, round: 1, batch: len(cmds), expires: now.Add(upstream.CardAuthTimeout)}
	id := randomHex(16)
	c.mu.Lock()
	c.purgeLocked(now)
	full := len(c.open) >= maxExchanges
	if !full {
		c.open[id] = ex
	}
	c.mu.Unlock()
	if full {
		writeAnswer(w, apiErr(http.StatusServiceUnavailable, upstream.ErrCodeUnavailable, "too many card checks at once; try again"))
		return
	}
	writeAnswer(w, answer{status: http.StatusCreated, body: upstream.CardAuthStep{Protocol: upstream.CardAuthProtocol, Status: upstream.StatusContinue,
		Module: c.module.Name(), AuthID: id, Round: 1, Commands: cmds, ExpiresAt: ex.expires}})
}

func validPurpose(p string) bool {
	for _, v := range upstream.CardAuthPurposes {
		if p == v {
			return true
		}
	}
	return false
}

// checkBatch holds the module to the protocol's limits.
func checkBatch(cmds [][]byte) error {
	if len(cmds) > upstream.CardAuthMaxCommands {
		return fmt.Errorf("a batch of %d commands", len(cmds))
	}
	for _, c := range cmds {
		if len(c) < 4 || len(c) > upstream.CardAuthMaxCommandBytes {
			return fmt.Errorf("a command of %d bytes", len(c))
		}
	}
	return nil
}

func (s *Server) cardAuthRespond(w http.ResponseWriter, r *http.Request) {
	var req upstream.CardAuthRespond
	if a := s.cardAuthBody(r, &req); a != nil {
		writeAnswer(w, *a)
		return
	}
	as, f := answersOf(req)
	if len(f) > 0 {
		writeAnswer(w, invalid(f))
		return
	}
	canon, _ := json.Marshal(req)
	hash := sha256.Sum256(canon)
	now := s.o.Now()
	c := s.cards
	c.mu.Lock()
	ex, ok := c.open[req.AuthID]
	expired := ok && now.After(ex.expires)
	if expired {
		delete(c.open, req.AuthID)
	}
	c.mu.Unlock()
	switch {
	case !ok || ex.kiosk != kiosk(r):
		writeAnswer(w, apiErr(http.StatusNotFound, upstream.ErrCodeNotFound, "no such card check; start a new one"))
		return
	case expired:
		writeAnswer(w, apiErr(http.StatusGone, upstream.ErrCodeExpired, "the card check took too long; start a new one"))
		return
	}
	// One request at a time per exchange; the module judges without the
	// other exchanges waiting.
	ex.mu.Lock()
	defer ex.mu.Unlock()
	switch {
	case ex.lastRound == req.Round && ex.lastHash == hash:
		writeAnswer(w, ex.last) // a retry of the last round
		return
	case ex.decided || req.Round != ex.round:
		writeAnswer(w, apiErr(http.StatusConflict, upstream.ErrCodeCardAuthRound, "this is not the card check's open round"))
		return
	case len(as) > ex.batch:
		writeAnswer(w, invalid([]upstream.FieldError{{Field: "responses", Code: "length", Message: "more answers than commands"}}))
		return
	}
	a := s.judge(c, ex, req.AuthID, as, now)
	ex.lastRound, ex.lastHash, ex.last = req.Round, hash, a
	writeAnswer(w, a)
}

// judge hands the answers to the module and turns its reply into the
// API's answer; ex.mu is held.
func (s *Server) judge(c *cardAuth, ex *exchange, id string, as []CardAnswer, now time.Time) answer {
	ex.answers += len(as)
	for _, a := range as {
		ex.sws = append(ex.sws, fmt.Sprintf("%04X", a.SW))
	}
	next, err := ex.sess.Next(as)
	var broken error
	switch {
	case err == nil && len(next) > 0 && ex.round >= upstream.CardAuthMaxRounds:
		broken = errors.New("more rounds than the protocol allows")
	case err == nil && len(next) > 0:
		broken = checkBatch(next)
	}
	if err == nil && len(next) > 0 && broken == nil {
		ex.round++
		ex.batch = len(next)
		return answer{status: http.StatusOK, body: upstream.CardAuthStep{Protocol: upstream.CardAuthProtocol, Status: upstream.StatusContinue,
			Module: c.module.Name(), AuthID: id, Round: ex.round, Commands: next, ExpiresAt: ex.expires}}
	}
	ex.decided = true
	result := "genuine"
	var a answer
	switch {
	case broken != nil:
		result = "module_error"
		a = apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "the security module broke the protocol")
	case err != nil:
		result = "not_genuine"
		a = apiErr(http.StatusForbidden, upstream.ErrCodeCardNotGenuine, "the card could not be authenticated as a genuine NHI card")
	default:
		proof, exp := s.issueProof(ex, now)
		a = answer{status: http.StatusOK, body: upstream.CardAuthStep{Protocol: upstream.CardAuthProtocol, Status: upstream.StatusAuthenticated,
			Module: c.module.Name(), Proof: proof, ExpiresAt: exp}}
	}
	ex.cardNumber, ex.idNumber, ex.sess = "", "", nil
	// Counts and status words only: nothing else of the exchange is logged.
	s.o.Logger.Info("card check", "kiosk", ex.kiosk, "purpose", ex.purpose, "module", c.module.Name(),
		"rounds", ex.round, "answers", ex.answers, "sw", strings.Join(ex.sws, ","), "result", result)
	return a
}

// answersOf checks the answers against the protocol's limits.
func answersOf(req upstream.CardAuthRespond) ([]CardAnswer, []upstream.FieldError) {
	var f []upstream.FieldError
	if req.AuthID == "" || len(req.AuthID) > upstream.CardAuthMaxIDBytes {
		f = append(f, upstream.FieldError{Field: "auth_id", Code: "format", Message: "the auth_id of the exchange"})
	}
	if req.Round < 1 || req.Round > upstream.CardAuthMaxRounds {
		f = append(f, upstream.FieldError{Field: "round", Code: "format", Message: "a round from 1 to the protocol's limit"})
	}
	if len(req.Responses) > upstream.CardAuthMaxCommands {
		f = append(f, upstream.FieldError{Field: "responses", Code: "length", Message: "more answers than a batch has commands"})
	}
	var as []CardAnswer
	for i, r := range req.Responses {
		sw, err := upstream.ParseSW(r.SW)
		if err != nil || len(r.Data) > upstream.CardAuthMaxResponseBytes {
			f = append(f, upstream.FieldError{Field: fmt.Sprintf("responses[%d]", i), Code: "format",
				Message: "data of at most 256 bytes and sw of 4 hex digits"})
			continue
		}
		as = append(as, CardAnswer{Data: r.Data, SW: sw})
	}
	return as, f
}

// cardAuthBody reads an exchange request strictly (JSON only, unknown
// fields refused).
func (s *Server) cardAuthBody(r *http.Request, v any) *answer {
	plain, a := s.readBody(r, r.URL.Path)
	if a != nil {
		return a
	}
	return decode(plain, v)
}

// String keeps an exchange's card data out of logs.
func (ex *exchange) String() string { return "exchange{redacted}" }

// cardAuthRoutes adds the exchange's endpoints to the handler's routes:
// a kiosk's certificate relays its card (issue 13's roles).
func (s *Server) cardAuthRoutes(routes map[string]route) {
	routes[upstream.PathCardAuth] = route{http.MethodPost, kioskOnly, s.cardAuthBegin}
	routes[upstream.PathCardAuthRespond] = route{http.MethodPost, kioskOnly, s.cardAuthRespond}
}
