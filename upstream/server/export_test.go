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
