package server

import (
	"time"

	"github.com/nhikiosk/nhikiosk/upstream"
)

// CheckRegistration is checkRegistration, the checks a registration
// passes before it is stored, for tests that try many addresses.
func (s *Server) CheckRegistration(reg upstream.Registration, now time.Time) []upstream.FieldError {
	return s.checkRegistration(&reg, now)
}

// CardAuthCounts reports the card exchanges s keeps: open, and decided
// (kept for a retry of their last round). Tests only.
func CardAuthCounts(s *Server) (open, decided int) { return s.cards.open.counts() }

// SetCardAuthBounds changes s's bounds on open card exchanges, per client
// and over all clients. Tests only.
func SetCardAuthBounds(s *Server, perClient, total int) {
	o := s.cards.open
	o.mu.Lock()
	o.perClient, o.total = perClient, total
	o.mu.Unlock()
}
