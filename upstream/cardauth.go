package upstream

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Card authentication (issue 24). The upstream proves that a genuine card
// is in the kiosk's reader before it registers, verifies, resets a
// password, cancels or logs in: its security module sends batches of
// command APDUs, the kiosk relays them to the card (package reader's
// allow-list) and returns the answers with their status words, and the
// module decides. A card it accepts earns a proof, a short-lived token
// bound to the kiosk, the card and the purpose, which the call then
// carries (card_auth) and uses up. The protocol is versioned
// (CardAuthProtocol) so that the NHI's own module can stand behind the
// same exchange; nhisim's module is a simulation (upstream/cardsim).

// Paths of the exchange.
const (
	PathCardAuth        = "/v1/card-auth"         // POST CardAuthBegin → CardAuthStep
	PathCardAuthRespond = "/v1/card-auth/respond" // POST CardAuthRespond → CardAuthStep
)

// CardAuthProtocol names the protocol and its version; an upstream that
// does not speak it answers 400 card_auth_protocol.
const CardAuthProtocol = "nhikiosk-card-auth/1"

// Purposes: the calls a proof is for. A proof opens only its own.
const (
	PurposeRegistration  = "registration"   // POST /v1/registrations
	PurposeVerification  = "verification"   // POST /v1/verifications
	PurposePasswordReset = "password_reset" // POST /v1/password-resets/confirm
	PurposeCancellation  = "cancellation"   // POST /v1/registrations/cancel
	PurposeLogin         = "login"          // POST /v1/sessions
)

// CardAuthPurposes maps each path that needs a proof to its purpose.
var CardAuthPurposes = map[string]string{
	PathRegistrations: PurposeRegistration,
	PathVerifications: PurposeVerification,
	PathResetConfirm:  PurposePasswordReset,
	PathCancel:        PurposeCancellation,
	PathSessions:      PurposeLogin,
}

// Limits of the exchange. The kiosk's relay enforces the same ones
// (reader.MaxRelay*); the upstream holds its module to them.
const (
	CardAuthMaxRounds        = 4   // batches in one exchange
	CardAuthMaxCommands      = 8   // command APDUs in one batch
	CardAuthMaxCommandBytes  = 261 // one command APDU: short, 4 + 1 + 255 + 1
	CardAuthMaxResponseBytes = 256 // data of one answer, SW aside
	CardAuthMaxProofBytes    = 128
	CardAuthMaxIDBytes       = 64
	// CardAuthTimeout bounds an exchange at the upstream, from begin to
	// decision; an exchange not decided by then is gone (410 expired).
	CardAuthTimeout = 30 * time.Second
	// CardAuthProofLifetime bounds the use of a proof after the decision;
	// CardAuthQueuedProofLifetime applies to a registration that comes
	// from a kiosk's outbox (age body), which may wait for the upstream.
	CardAuthProofLifetime       = 5 * time.Minute
	CardAuthQueuedProofLifetime = 7 * 24 * time.Hour
)

// Status values of a CardAuthStep.
const (
	StatusContinue      = "continue"      // relay Commands, then respond
	StatusAuthenticated = "authenticated" // genuine: Proof is for the call
	StatusNotRequired   = "not_required"  // this upstream authenticates no cards
)

// CardAuthBegin starts a card authentication for a purpose, for the card
// the kiosk has just read.
type CardAuthBegin struct {
	Protocol   string `json:"protocol"`
	Purpose    string `json:"purpose"`
	CardNumber string `json:"card_number"`
	IDNumber   string `json:"id_number"`
	ATR        []byte `json:"atr,omitempty"`
}

// CardAuthStep is the upstream's answer: the next batch of commands for
// the card, or its decision.
type CardAuthStep struct {
	Protocol string `json:"protocol"`
	Status   string `json:"status"`
	// Module names the security module (e.g. nhisim's simulation).
	Module string `json:"module,omitempty"`
	// AuthID names the exchange; Round numbers the batch (from 1).
	AuthID   string   `json:"auth_id,omitempty"`
	Round    int      `json:"round,omitempty"`
	Commands [][]byte `json:"commands,omitempty"`
	// Proof opens one call of the purpose (authenticated).
	Proof string `json:"proof,omitempty"`
	// ExpiresAt is when the exchange ends (continue) or the proof
	// (authenticated).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// CardAuthRespond returns the card's answers to round Round.
type CardAuthRespond struct {
	AuthID    string         `json:"auth_id"`
	Round     int            `json:"round"`
	Responses []CardResponse `json:"responses"`
}

// CardResponse is the card's answer to one command: its data and its
// status word as 4 hex digits.
type CardResponse struct {
	Data []byte `json:"data"`
	SW   string `json:"sw"`
}

// ErrCardAuthAnswer is an answer of the upstream's that breaks the
// protocol (a batch over the limits, an unknown status, …).
var ErrCardAuthAnswer = errors.New("card authentication: malformed answer")

// Check checks a step against the protocol and its limits.
func (s CardAuthStep) Check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrCardAuthAnswer, fmt.Sprintf(format, args...))
	}
	if s.Protocol != CardAuthProtocol {
		return bad("protocol %q", s.Protocol)
	}
	switch s.Status {
	case StatusNotRequired:
		if len(s.Commands) > 0 || s.Proof != "" {
			return bad("not_required with commands or a proof")
		}
	case StatusAuthenticated:
		if len(s.Commands) > 0 || s.Proof == "" || len(s.Proof) > CardAuthMaxProofBytes {
			return bad("authenticated with commands, or a proof of %d bytes", len(s.Proof))
		}
	case StatusContinue:
		switch {
		case s.AuthID == "" || len(s.AuthID) > CardAuthMaxIDBytes:
			return bad("auth_id of %d bytes", len(s.AuthID))
		case s.Round < 1 || s.Round > CardAuthMaxRounds:
			return bad("round %d", s.Round)
		case len(s.Commands) == 0 || len(s.Commands) > CardAuthMaxCommands:
			return bad("%d commands", len(s.Commands))
		case s.Proof != "":
			return bad("a proof before the decision")
		}
		for i, c := range s.Commands {
			if len(c) < 4 || len(c) > CardAuthMaxCommandBytes {
				return bad("command %d of %d bytes", i+1, len(c))
			}
		}
	default:
		return bad("status %q", s.Status)
	}
	return nil
}

// ParseCardAuthStep decodes an answer of the exchange's endpoints: a 2xx
// body into a checked CardAuthStep, anything else into *Error.
func ParseCardAuthStep(status int, body []byte) (CardAuthStep, error) {
	var s CardAuthStep
	if err := ParseAnswer(status, body, &s); err != nil {
		return CardAuthStep{}, err
	}
	if err := s.Check(); err != nil {
		return CardAuthStep{}, err
	}
	return s, nil
}

// CardAuthBegin starts an exchange. It carries no Idempotency-Key: an
// exchange is short-lived state in the upstream's memory, and a retry
// starts another (the first expires unused).
func (c *Client) CardAuthBegin(ctx context.Context, b CardAuthBegin) (CardAuthStep, error) {
	return c.cardAuthCall(ctx, PathCardAuth, b)
}

// CardAuthRespond returns the answers to a round. Sending the same round
// again with the same answers gets the same reply, so it is retried like
// a write.
func (c *Client) CardAuthRespond(ctx context.Context, r CardAuthRespond) (CardAuthStep, error) {
	return c.cardAuthCall(ctx, PathCardAuthRespond, r)
}

func (c *Client) cardAuthCall(ctx context.Context, path string, body any) (CardAuthStep, error) {
	plain, err := EncodeBody(body) // card and ID numbers: zeroed once sent (issue 13)
	if err != nil {
		return CardAuthStep{}, fmt.Errorf("%s: encode: %w", path, err)
	}
	defer clear(plain)
	var s CardAuthStep
	if err := c.doTok(ctx, "", http.MethodPost, path, "", ContentJSON, plain, &s, c.attempts); err != nil {
		var ue *Error
		if !errors.As(err, &ue) && !errors.Is(err, ErrUnavailable) && ctx.Err() == nil {
			return CardAuthStep{}, fmt.Errorf("POST %s: %w: %w", path, ErrCardAuthAnswer, err) // not JSON
		}
		return CardAuthStep{}, err
	}
	if err := s.Check(); err != nil {
		return CardAuthStep{}, fmt.Errorf("POST %s: %w", path, err)
	}
	return s, nil
}

// CardAuth is one card authentication as the kiosk runs it. Its Begin and
// Continue have the shape of reader.Exchange, so the reader relays it to
// the card (the two packages do not know each other); Proof gives the
// outcome. It holds no card data: the card and ID numbers go to the
// upstream in Begin and are not kept. Use it once, from one goroutine.
type CardAuth struct {
	c       *Client
	purpose string
	step    CardAuthStep
	// Counts and status words, for logs: nothing else of the exchange may
	// be logged.
	rounds, commands int
	sws              []string
}

// NewCardAuth prepares an exchange for purpose (Purpose*).
func (c *Client) NewCardAuth(purpose string) *CardAuth { return &CardAuth{c: c, purpose: purpose} }

// Begin starts the exchange for the card read (reader.Exchange).
func (a *CardAuth) Begin(ctx context.Context, cardNumber, idNumber string, atr []byte) ([][]byte, error) {
	s, err := a.c.CardAuthBegin(ctx, CardAuthBegin{Protocol: CardAuthProtocol, Purpose: a.purpose,
		CardNumber: cardNumber, IDNumber: idNumber, ATR: atr})
	if err != nil {
		return nil, err
	}
	if s.Status == StatusContinue && s.Round != 1 {
		return nil, fmt.Errorf("%w: the first round is %d", ErrCardAuthAnswer, s.Round)
	}
	return a.took(s), nil
}

// Continue returns the card's answers (data and SW1 SW2 each) and gets
// the next batch, or none once the upstream has decided
// (reader.Exchange). The upstream's refusal of the card is an *Error
// with code card_not_genuine.
func (a *CardAuth) Continue(ctx context.Context, responses [][]byte) ([][]byte, error) {
	if a.step.Status != StatusContinue {
		return nil, fmt.Errorf("card authentication: no round is open")
	}
	r := CardAuthRespond{AuthID: a.step.AuthID, Round: a.step.Round}
	for _, resp := range responses {
		n := len(resp) - 2
		if n < 0 || n > CardAuthMaxResponseBytes {
			return nil, fmt.Errorf("card authentication: an answer of %d bytes", len(resp))
		}
		sw := hex.EncodeToString(resp[n:])
		a.sws = append(a.sws, sw)
		r.Responses = append(r.Responses, CardResponse{Data: resp[:n], SW: sw})
	}
	a.rounds++
	s, err := a.c.CardAuthRespond(ctx, r)
	if err != nil {
		return nil, err
	}
	if s.Status == StatusContinue && (s.AuthID != a.step.AuthID || s.Round != a.step.Round+1) {
		return nil, fmt.Errorf("%w: round %d of another exchange or out of order", ErrCardAuthAnswer, s.Round)
	}
	return a.took(s), nil
}

func (a *CardAuth) took(s CardAuthStep) [][]byte {
	a.step = s
	if s.Status != StatusContinue {
		return nil
	}
	a.commands += len(s.Commands)
	return s.Commands
}

// ErrCardAuthUndecided is Proof before the upstream decided.
var ErrCardAuthUndecided = errors.New("card authentication not decided")

// Proof returns the proof for the purpose's call once the upstream has
// decided the card is genuine, or "" when it authenticates no cards.
func (a *CardAuth) Proof() (string, error) {
	switch a.step.Status {
	case StatusAuthenticated:
		return a.step.Proof, nil
	case StatusNotRequired:
		return "", nil
	}
	return "", ErrCardAuthUndecided
}

// Summary is what may be logged of an exchange: rounds and commands
// relayed, and the status words the card answered, in order.
func (a *CardAuth) Summary() (rounds, commands int, sws []string) {
	return a.rounds, a.commands, append([]string(nil), a.sws...)
}

// CardProver runs a card authentication for purpose with the card of
// cardNumber and idNumber, through c, and returns the proof ("" if the
// upstream requires none). A Client given one (Options.CardProver) uses
// it for the calls that need a proof and were given none: tools and
// tests that have no card step of their own. The kiosk's wizard runs its
// own card step and passes the proof (WithCardAuth, Registration.CardAuth).
type CardProver func(ctx context.Context, c *Client, purpose, cardNumber, idNumber string) (string, error)

// CallOption changes one call of the Client.
type CallOption func(*callOpts)

type callOpts struct{ cardAuth string }

// WithCardAuth sends proof (from a card authentication for the call's
// purpose) with the call; "" sends none.
func WithCardAuth(proof string) CallOption { return func(o *callOpts) { o.cardAuth = proof } }

// cardProof returns the proof for a call: the one given, or one from the
// client's CardProver, or none.
func (c *Client) cardProof(ctx context.Context, purpose, card, id string, opts []CallOption) (string, error) {
	var o callOpts
	for _, f := range opts {
		f(&o)
	}
	if o.cardAuth != "" || c.prover == nil {
		return o.cardAuth, nil
	}
	proof, err := c.prover(ctx, c, purpose, card, id)
	if err != nil {
		return "", fmt.Errorf("card authentication for %s: %w", purpose, err)
	}
	return proof, nil
}

// ParseSW reads a CardResponse's status word (4 hex digits).
func ParseSW(s string) (uint16, error) {
	if len(s) != 4 {
		return 0, fmt.Errorf("status word %q: want 4 hex digits", s)
	}
	v, err := strconv.ParseUint(s, 16, 16)
	if err != nil {
		return 0, fmt.Errorf("status word %q: want 4 hex digits", s)
	}
	return uint16(v), nil
}

// WithCardProver returns a client like c that uses p for the calls given
// no proof (see CardProver). c is unchanged; both share their connections
// and outbox.
func (c *Client) WithCardProver(p CardProver) *Client {
	cc := *c
	cc.prover = p
	return &cc
}
