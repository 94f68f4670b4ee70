package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"filippo.io/age"
)

// Dev is an nhisim in dev mode running inside another program, as
// `kiosk -demo` runs it: plain HTTP on a loopback port, a fresh age
// identity, the simulated card authentication (the demo's virtual card
// passes it), e-mails printed to Out (kind, reference, code; never the
// address) and, if Mailer is set, also delivered.
type Dev struct {
	// URL is the base URL to give the kiosk's client.
	URL string
	// Recipient is the age public key for the kiosk's outbox.
	Recipient string
	// Server is the running server (Stats, Counts).
	Server *Server
	stop   func() error
}

// StartDev starts a Dev server with its database in dir, serving until
// ctx ends or Stop is called.
func StartDev(ctx context.Context, dir string, out io.Writer, mailer Mailer) (*Dev, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dev upstream: listen: %w", err)
	}
	url := "http://" + ln.Addr().String()
	srv, err := New(Options{DBPath: filepath.Join(dir, "nhisim-dev.db"), Identity: id, DevOut: out, Mailer: mailer, PublicURL: url,
		CardAuth: CardAuthSim})
	if err != nil {
		ln.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served, ran := make(chan error, 1), make(chan struct{})
	go func() { srv.Run(ctx); close(ran) }()
	go func() { served <- hs.Serve(ln) }()
	go func() { <-ctx.Done(); hs.Close() }()
	d := &Dev{URL: url, Recipient: id.Recipient().String(), Server: srv}
	d.stop = func() error {
		cancel()
		err := <-served
		<-ran
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		return errors.Join(err, srv.Close())
	}
	return d, nil
}

// Stop stops serving and closes the database. Call it once.
func (d *Dev) Stop() error { return d.stop() }
