// Package httpserve runs an HTTP server for exactly as long as a context lives:
// the one piece of plumbing fleetd's dashboard and nhisim share.
package httpserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ShutdownGrace bounds how long in-flight requests get once ctx ends.
const ShutdownGrace = 5 * time.Second

// HTTP serves hs on ln until ctx ends, then shuts it down gracefully
// (at most ShutdownGrace) and returns nil. A failure to serve is returned
// wrapped with what, e.g. "serve dashboard: …".
func HTTP(ctx context.Context, what string, hs *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", what, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", what, serr)
	}
	if err != nil {
		return fmt.Errorf("shut down %s: %w", what, err)
	}
	return nil
}
