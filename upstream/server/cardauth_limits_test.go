package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// fleet is an nhisim over mutual TLS and a way to make clients with
// certificates of any role.
type fleet struct {
	sim *upstreamtest.Sim
	ca  *upstreamtest.CA
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	ca := upstreamtest.NewCA(t, "nhi-kiosks")
	pair := ca.Server(t)
	tc, err := server.TLSConfig(pair.CertFile, pair.KeyFile, ca.PEMFile)
	if err != nil {
		t.Fatal(err)
	}
	return &fleet{sim: upstreamtest.Start(t, server.Options{}, tc), ca: ca}
}

// client is a client with pair's certificate.
func (f *fleet) client(t *testing.T, pair upstreamtest.Pair) *upstream.Client {
	t.Helper()
	c := config.Default()
	c.DataDir = t.TempDir()
	c.Upstream = config.Upstream{URL: f.sim.URL, ClientCertFile: pair.CertFile, ClientKeyFile: pair.KeyFile,
		CAFile: f.ca.PEMFile, Timeout: config.Duration(10 * time.Second)}
	cl, err := upstream.FromConfig(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func beginFor(n int) upstream.CardAuthBegin {
	p := upstreamtest.Person(n)
	return upstream.CardAuthBegin{Protocol: upstream.CardAuthProtocol, Purpose: upstream.PurposeLogin,
		CardNumber: p.CardNumber, IDNumber: p.IDNumber}
}

// One client certificate beginning more exchanges than the upstream keeps
// in all (4,097 valid bodies: the review's flood) fills only its own few
// slots: another kiosk's card check still passes, then and 30 s later.
func TestCardAuthFloodBlocksNobodyElse(t *testing.T) {
	f := newFleet(t)
	flood := f.client(t, f.ca.Client(t, "kiosk-flood"))
	honest := f.client(t, f.ca.Client(t, "kiosk-honest"))
	ctx := context.Background()
	const n = 4097
	var wg sync.WaitGroup
	var mu sync.Mutex
	var refused error
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				if _, err := flood.CardAuthBegin(ctx, beginFor(300)); err != nil {
					mu.Lock()
					refused = err
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if refused != nil {
		t.Errorf("the flooding kiosk's own begin was refused: %v (its oldest should make way)", refused)
	}
	if open, _ := server.CardAuthCounts(f.sim.Server); open > upstream.CardAuthMaxOpenPerClient {
		t.Errorf("%d exchanges open after one client's flood, want at most %d", open, upstream.CardAuthMaxOpenPerClient)
	}
	p := upstreamtest.Person(301)
	proof, err := authenticate(t, honest, upstream.PurposeRegistration, holder(t, p))
	if err != nil || proof == "" {
		t.Fatalf("another kiosk's card check during the flood = %q, %v; want a proof", proof, err)
	}
	p.CardAuth = proof
	if _, err := honest.Register(ctx, p); err != nil {
		t.Errorf("Register with the proof: %v", err)
	}
}

// A decided exchange frees its slot at once, keeping what a retry of its
// last round needs; a client's (k+1)-th open exchange ends its oldest.
func TestCardAuthSlots(t *testing.T) {
	f := newFleet(t)
	k := upstream.CardAuthMaxOpenPerClient
	kiosk := f.client(t, f.ca.Client(t, "kiosk-1"))
	ctx := context.Background()
	// Many checks in a row, each decided: none stays open.
	for i := range 3 * k {
		if _, err := authenticate(t, kiosk, upstream.PurposeLogin, holder(t, upstreamtest.Person(310+i))); err != nil {
			t.Fatalf("check %d: %v", i+1, err)
		}
	}
	if open, decided := server.CardAuthCounts(f.sim.Server); open != 0 || decided > k {
		t.Errorf("after %d decided checks: %d open, %d kept for a retry; want 0 open, at most %d kept", 3*k, open, decided, k)
	}
	// A decided round still answers its retry the same way.
	req, first := relayByHand(t, kiosk, holder(t, upstreamtest.Person(330)))
	if first.Status != upstream.StatusAuthenticated {
		t.Fatalf("check by hand = %+v, want authenticated", first)
	}
	if again, err := kiosk.CardAuthRespond(ctx, req); err != nil || again.Proof != first.Proof {
		t.Errorf("retry of the decided round = %+v, %v; want the same proof", again, err)
	}
	// k+1 exchanges begun and left open: the first is ended.
	var ids []string
	for range k + 1 {
		s, err := kiosk.CardAuthBegin(ctx, beginFor(331))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.AuthID)
	}
	if open, _ := server.CardAuthCounts(f.sim.Server); open != k {
		t.Errorf("%d open after %d begins, want %d", open, k+1, k)
	}
	_, err := kiosk.CardAuthRespond(ctx, upstream.CardAuthRespond{AuthID: ids[0], Round: 1})
	if upstream.Code(err) != upstream.ErrCodeNotFound {
		t.Errorf("answers to the oldest, ended exchange = %v, want %s", err, upstream.ErrCodeNotFound)
	}
	_, err = kiosk.CardAuthRespond(ctx, upstream.CardAuthRespond{AuthID: ids[k], Round: 1})
	if upstream.Code(err) != upstream.ErrCodeCardNotGenuine {
		t.Errorf("no answers to the newest exchange = %v, want its decision %s", err, upstream.ErrCodeCardNotGenuine)
	}
}

// The bound over all clients is a last resort: reached by several
// clients at once it is 503, and a decided exchange makes room at once.
func TestCardAuthGlobalBound(t *testing.T) {
	f := newFleet(t)
	server.SetCardAuthBounds(f.sim.Server, 2, 4)
	ctx := context.Background()
	var last upstream.CardAuthStep
	for _, name := range []string{"kiosk-a", "kiosk-b"} {
		c := f.client(t, f.ca.Client(t, name))
		for range 3 { // one more than its own bound: its oldest makes way
			s, err := c.CardAuthBegin(ctx, beginFor(340))
			if err != nil {
				t.Fatalf("%s: begin: %v", name, err)
			}
			last = s
		}
		if name == "kiosk-b" {
			defer func() {
				// Deciding one of b's frees a slot for c.
				c.CardAuthRespond(ctx, upstream.CardAuthRespond{AuthID: last.AuthID, Round: 1})
			}()
		}
	}
	c := f.client(t, f.ca.Client(t, "kiosk-c"))
	_, err := c.CardAuthBegin(ctx, beginFor(341))
	var ue *upstream.Error
	if !errors.As(err, &ue) || ue.Status != http.StatusServiceUnavailable {
		t.Fatalf("a third client's begin with every slot taken = %v, want 503", err)
	}
	b := f.client(t, f.ca.Client(t, "kiosk-b"))
	if _, err := b.CardAuthRespond(ctx, upstream.CardAuthRespond{AuthID: last.AuthID, Round: 1}); upstream.Code(err) != upstream.ErrCodeCardNotGenuine {
		t.Fatalf("deciding b's exchange: %v", err)
	}
	if _, err := c.CardAuthBegin(ctx, beginFor(341)); err != nil {
		t.Errorf("begin after a decision freed a slot: %v", err)
	}
}

// Only a kiosk's certificate may begin or answer an exchange: a phone's,
// or one with no role, is 403 forbidden on both endpoints.
func TestCardAuthKioskRoleOnly(t *testing.T) {
	f := newFleet(t)
	ctx := context.Background()
	kiosk := f.client(t, f.ca.Client(t, "kiosk-1"))
	s, err := kiosk.CardAuthBegin(ctx, beginFor(350))
	if err != nil {
		t.Fatalf("a kiosk's begin: %v", err)
	}
	for name, pair := range map[string]upstreamtest.Pair{
		"phone":   f.ca.Phone(t, "phone-1"),
		"no role": f.ca.WithRoles(t, "nobody"),
		// A certificate with the kiosk's name but a phone's role.
		"phone named as the kiosk": f.ca.Phone(t, "kiosk-1"),
	} {
		t.Run(name, func(t *testing.T) {
			c := f.client(t, pair)
			if _, err := c.CardAuthBegin(ctx, beginFor(351)); upstream.Code(err) != upstream.ErrCodeForbidden {
				t.Errorf("begin = %v, want %s", err, upstream.ErrCodeForbidden)
			}
			_, err := c.CardAuthRespond(ctx, upstream.CardAuthRespond{AuthID: s.AuthID, Round: 1})
			if upstream.Code(err) != upstream.ErrCodeForbidden {
				t.Errorf("respond = %v, want %s", err, upstream.ErrCodeForbidden)
			}
		})
	}
	if open, _ := server.CardAuthCounts(f.sim.Server); open != 1 {
		t.Errorf("%d exchanges open, want only the kiosk's", open)
	}
}

// relayByHand runs a login check of card through c without the reader:
// begin, the card's answers to the batch, respond. It returns the respond
// request and its answer.
func relayByHand(t *testing.T, c *upstream.Client, card *readertest.Card) (upstream.CardAuthRespond, upstream.CardAuthStep) {
	t.Helper()
	ctx := context.Background()
	p, err := reader.DecodeProfile(card.Profile)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.CardAuthBegin(ctx, upstream.CardAuthBegin{Protocol: upstream.CardAuthProtocol, Purpose: upstream.PurposeLogin,
		CardNumber: p.CardNumber, IDNumber: p.IDNumber})
	if err != nil {
		t.Fatal(err)
	}
	req := upstream.CardAuthRespond{AuthID: s.AuthID, Round: s.Round}
	for _, cmd := range s.Commands {
		resp, err := card.Respond(cmd)
		if err != nil || len(resp) < 2 {
			t.Fatalf("card: % X, %v", resp, err)
		}
		n := len(resp) - 2
		req.Responses = append(req.Responses, upstream.CardResponse{Data: resp[:n], SW: fmt.Sprintf("%02X%02X", resp[n], resp[n+1])})
	}
	step, err := c.CardAuthRespond(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return req, step
}
