package server

import (
	"slices"
	"sync"
	"time"

	"github.com/nhikiosk/nhikiosk/upstream"
)

// The exchanges nhisim keeps in memory, and their bounds (issue 24's
// review: one client beginning 4,097 exchanges blocked every card check
// of the fleet for 30 s, again and again).
//
//   - Per client (the certificate's common name, the client issue 13's
//     budgets count), at most upstream.CardAuthMaxOpenPerClient exchanges
//     are open. A kiosk has one reader and checks one card at a time, so
//     more are exchanges it abandoned (a card pulled, a check that timed
//     out): its next begin ends its oldest, and a client can fill only its
//     own slots.
//   - A decided exchange leaves the open ones at once. What a retry of its
//     last round needs (the request's hash and the answer) is kept until
//     the exchange expires, for at most as many per client, the oldest
//     dropped first: a lost answer is asked again within seconds.
//   - The bound over all clients (maxOpenExchanges) guards the memory
//     against many certificates at once; one client alone cannot reach it.
//     Past it, begin is 503 until some end.
//
// A Budget (budget.go) or internal/budget does not fit here: both count
// attempts over a window, and nothing gives a slot back when an exchange
// is decided; a Budget also writes to bbolt per attempt, so a flood of
// begins would slow every write. What is limited is what is open now.
const maxOpenExchanges = 4096

// openExchanges is the table of exchanges. Its methods lock mu; an
// exchange's own fields are its mu's.
type openExchanges struct {
	perClient, total int

	mu      sync.Mutex
	byID    map[string]*exchange
	clients map[string]*clientExchanges
	open    int       // exchanges not decided, over all clients
	swept   time.Time // when every client was last swept
}

// clientExchanges are one client's exchanges by id, oldest first.
type clientExchanges struct {
	open, decided []string
}

func newOpenExchanges() *openExchanges {
	return &openExchanges{perClient: upstream.CardAuthMaxOpenPerClient, total: maxOpenExchanges,
		byID: map[string]*exchange{}, clients: map[string]*clientExchanges{}}
}

// add keeps ex under id for its client, ending the client's oldest open
// exchange if it has its fill. It reports false, keeping nothing, when
// the bound over all clients is reached.
func (o *openExchanges) add(id string, ex *exchange, now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sweepLocked(now)
	ce := o.clients[ex.kiosk]
	if ce == nil {
		ce = &clientExchanges{}
	}
	o.sweepClientLocked(ce, now)
	for len(ce.open) >= o.perClient {
		o.dropLocked(ce.open[0])
	}
	if o.open >= o.total {
		return false
	}
	o.clients[ex.kiosk] = ce // dropping its last exchange forgot the client
	o.byID[id] = ex
	ce.open = append(ce.open, id)
	o.open++
	return true
}

// get returns the exchange of id, if it is kept, and whether it has
// expired (it is then forgotten).
func (o *openExchanges) get(id string, now time.Time) (ex *exchange, ok, expired bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ex, ok = o.byID[id]
	if ok && now.After(ex.expires) {
		o.dropLocked(id)
		return ex, true, true
	}
	return ex, ok, false
}

// decide moves the exchange of id from its client's open exchanges to
// the decided ones, dropping the client's oldest decided past the bound.
// An exchange ended meanwhile (by a newer begin of its client) stays
// gone.
func (o *openExchanges) decide(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ex, ok := o.byID[id]
	if !ok {
		return
	}
	ce := o.clients[ex.kiosk]
	i := slices.Index(ce.open, id)
	if i < 0 {
		return
	}
	ce.open = slices.Delete(ce.open, i, i+1)
	o.open--
	ce.decided = append(ce.decided, id)
	for len(ce.decided) > o.perClient {
		o.dropLocked(ce.decided[0])
	}
}

// counts reports the exchanges open and decided (kept for a retry) over
// all clients.
func (o *openExchanges) counts() (open, decided int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.open, len(o.byID) - o.open
}

// dropLocked forgets the exchange of id; o.mu is held.
func (o *openExchanges) dropLocked(id string) {
	ex, ok := o.byID[id]
	if !ok {
		return
	}
	delete(o.byID, id)
	ce := o.clients[ex.kiosk]
	if i := slices.Index(ce.open, id); i >= 0 {
		ce.open = slices.Delete(ce.open, i, i+1)
		o.open--
	} else if i := slices.Index(ce.decided, id); i >= 0 {
		ce.decided = slices.Delete(ce.decided, i, i+1)
	}
	if len(ce.open)+len(ce.decided) == 0 {
		delete(o.clients, ex.kiosk)
	}
}

// sweepClientLocked forgets ce's expired exchanges; o.mu is held.
func (o *openExchanges) sweepClientLocked(ce *clientExchanges, now time.Time) {
	for _, list := range [][]string{ce.open, ce.decided} {
		for _, id := range slices.Clone(list) {
			if now.After(o.byID[id].expires) {
				o.dropLocked(id)
			}
		}
	}
}

// sweepLocked forgets every client's expired exchanges, at most once a
// second (a flood of begins must not make each one walk the table) unless
// the bound over all clients is reached; o.mu is held.
func (o *openExchanges) sweepLocked(now time.Time) {
	if o.open < o.total && now.Sub(o.swept) < time.Second && !now.Before(o.swept) {
		return
	}
	o.swept = now
	for _, ce := range o.clients {
		o.sweepClientLocked(ce, now)
	}
}
