package server

import (
	"net/http"

	"github.com/nhikiosk/nhikiosk/upstream"
)

// getTime answers GET /v1/time with the server's clock (issue 21): a kiosk
// that booted without the time takes it from here over mutual TLS.
func (s *Server) getTime(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeAnswer(w, answer{status: http.StatusOK, body: upstream.ServerTime{Time: s.o.Now().UTC()}})
}
