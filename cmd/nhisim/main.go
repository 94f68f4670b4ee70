// Command nhisim is the reference upstream: it serves the registration API
// (upstream/server) with real storage (a bbolt file) and sends the
// confirmation, resend and reset e-mails over real SMTP.
//
//	nhisim -listen :8443 -db nhisim.db -smtp 127.0.0.1:1025 \
//	    -age-identity nhisim.agekey -tls-cert srv.pem -tls-key srv-key.pem -client-ca kiosk-ca.pem
//	nhisim -dev -listen 127.0.0.1:8080 -db /tmp/nhisim.db   # plain HTTP, loopback only
//	nhisim bind 12345678 --device "Test phone" --url http://127.0.0.1:8080  # play the phone
//
// Without -dev it serves TLS and refuses any client without a certificate
// from -client-ca. -dev serves plain HTTP on loopback only, generates the
// age identity next to the database if missing, and prints each e-mail's
// kind, reference, code and link (never the address) to stdout, and each
// binding SMS's masked number and code.
//
// "nhisim bind CODE --device NAME" is the phone side of a mobile device
// binding: it presents the code shown at the kiosk (or sent by SMS) with
// the phone's name, over the same API (--cert/--key/--ca for https).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/nhikiosk/nhikiosk/internal/httpserve"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"filippo.io/age"
	"golang.org/x/sync/errgroup"

	"github.com/nhikiosk/nhikiosk/divisions"
	"github.com/nhikiosk/nhikiosk/upstream/server"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "nhisim:", err)
		os.Exit(1)
	}
}

type options struct {
	listen, db, smtp, identity, divisions   string
	divisionsVersion                        string
	tlsCert, tlsKey, clientCA, from, public string
	cardAuth                                string
	dev                                     bool
	fail                                    float64
	delay, mailRetry, mailGiveUp            time.Duration
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("nhisim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8443", "address to serve on")
	fs.StringVar(&o.db, "db", "nhisim.db", "database file (created if missing)")
	fs.StringVar(&o.smtp, "smtp", "", "SMTP relay host:port for e-mails (required, but in -dev, which prints them)")
	fs.StringVar(&o.identity, "age-identity", "", "age X25519 identity file (AGE-SECRET-KEY-1…); -dev creates DB.agekey if unset")
	fs.StringVar(&o.divisions, "divisions", "", "division list CSV (county_code,county,county_en,…,village_en; default: the full list built in); SIGHUP reads it again")
	fs.StringVar(&o.divisionsVersion, "divisions-version", "", "date the -divisions list took effect, YYYY-MM-DD (default: the file's modification date)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "server certificate (PEM)")
	fs.StringVar(&o.tlsKey, "tls-key", "", "server key (PEM)")
	fs.StringVar(&o.clientCA, "client-ca", "", "CA bundle (PEM) kiosk certificates must chain to")
	fs.StringVar(&o.from, "mail-from", "nhisim@localhost", "sender address of e-mails")
	fs.StringVar(&o.public, "public-url", "", "base URL of links in e-mails (default: this server)")
	fs.BoolVar(&o.dev, "dev", false, "plain HTTP on loopback only; print e-mails to stdout")
	fs.Float64Var(&o.fail, "fail", 0, "answer this share (0–1) of requests with 503")
	fs.DurationVar(&o.delay, "delay", 0, "hold every request back this long")
	fs.DurationVar(&o.mailRetry, "mail-retry", 30*time.Second, "first pause before a deferred (4xx) e-mail is tried again; it doubles up to an hour")
	fs.DurationVar(&o.mailGiveUp, "mail-give-up", 24*time.Hour, "how long a deferred e-mail is retried before it is given up and counted")
	fs.StringVar(&o.cardAuth, "card-auth", server.CardAuthSim, "card authentication: sim (the protocol's simulated reference module; only virtual test cards pass) or off")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.fail < 0 || o.fail > 1 {
		return o, errors.New("-fail must be between 0 and 1")
	}
	if o.mailRetry <= 0 || o.mailGiveUp < o.mailRetry {
		return o, errors.New("-mail-retry must be positive and at most -mail-give-up")
	}
	if o.cardAuth != server.CardAuthSim && o.cardAuth != server.CardAuthOff {
		return o, fmt.Errorf("-card-auth is %s or %s, not %q", server.CardAuthSim, server.CardAuthOff, o.cardAuth)
	}
	if o.dev {
		host, _, err := net.SplitHostPort(o.listen)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return o, fmt.Errorf("-dev serves plain HTTP and listens on loopback only (e.g. 127.0.0.1:8080), not %q", o.listen)
		}
		if o.identity == "" {
			o.identity = o.db + ".agekey"
		}
	} else if o.tlsCert == "" || o.tlsKey == "" || o.clientCA == "" || o.identity == "" || o.smtp == "" {
		// Issue 13: without -smtp, nhisim logged "mail sent" and sent nothing.
		return o, errors.New("without -dev, -tls-cert, -tls-key, -client-ca, -age-identity and -smtp are required")
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "bind" {
		return runBind(args[1:], stdout, stderr)
	}
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	id, err := loadIdentity(o.identity, o.dev)
	if err != nil {
		return err
	}
	so := server.Options{DBPath: o.db, Identity: id, MailFrom: o.from, PublicURL: o.public,
		FailRate: o.fail, Delay: o.delay, Logger: log, MailRetry: o.mailRetry, MailGiveUp: o.mailGiveUp, CardAuth: o.cardAuth}
	if o.smtp != "" {
		so.Mailer = server.SMTPMailer{Addr: o.smtp}
	}
	if o.dev {
		so.DevOut = stdout
	}
	if o.divisions != "" {
		if so.Divisions, err = loadDivisions(o.divisions, o.divisionsVersion); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	scheme := "http"
	if !o.dev {
		tc, err := server.TLSConfig(o.tlsCert, o.tlsKey, o.clientCA)
		if err != nil {
			ln.Close()
			return err
		}
		ln, scheme = tlsListener(ln, tc), "https"
	}
	if so.PublicURL == "" {
		so.PublicURL = scheme + "://" + ln.Addr().String()
	}
	srv, err := server.New(so)
	if err != nil {
		ln.Close()
		return err
	}
	defer srv.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.divisions != "" {
		// Caught from before "serving": a SIGHUP must never end nhisim.
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go reloadDivisions(ctx, hup, srv, o, log)
	}
	log.Info("nhisim serving", "url", scheme+"://"+ln.Addr().String(), "age_recipient", id.Recipient().String(), "dev", o.dev, "card_auth", o.cardAuth)
	return serve(ctx, srv, ln)
}

// loadDivisions reads the division list at path, of version (the file's
// modification date if empty).
func loadDivisions(path, version string) (divisions.List, error) {
	f, err := os.Open(path)
	if err != nil {
		return divisions.List{}, fmt.Errorf("open divisions: %w", err)
	}
	defer f.Close()
	if version == "" {
		fi, err := f.Stat()
		if err != nil {
			return divisions.List{}, fmt.Errorf("divisions: %w", err)
		}
		version = fi.ModTime().UTC().Format(time.DateOnly)
	}
	l, err := server.ParseDivisions(f, version)
	if err != nil {
		return divisions.List{}, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// reloadDivisions reads the -divisions file again on every hup and
// serves it from then on (kiosks get it through its new ETag); a file
// that does not parse is logged and the list served is kept.
func reloadDivisions(ctx context.Context, hup <-chan os.Signal, srv *server.Server, o options, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		l, err := loadDivisions(o.divisions, o.divisionsVersion)
		if err == nil {
			err = srv.SetDivisions(l)
		}
		if err != nil {
			log.Error("divisions not reloaded", "err", err)
		}
	}
}

func serve(ctx context.Context, srv *server.Server, ln net.Listener) error {
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	// Requests end with the server: binding long-polls answer at once on
	// SIGTERM instead of holding the shutdown.
	hs.BaseContext = func(net.Listener) context.Context { return ctx }
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Run(ctx) })
	g.Go(func() error { return httpserve.HTTP(ctx, "api", hs, ln) })
	return g.Wait()
}

// loadIdentity reads the age identity; in dev mode a missing file is
// created (temp file + fsync + rename + directory fsync, mode 0600).
func loadIdentity(path string, dev bool) (*age.X25519Identity, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && dev {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return nil, err
		}
		return id, writeDurable(path, []byte(id.String()+"\n"))
	}
	if err != nil {
		return nil, fmt.Errorf("read age identity: %w", err)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("parse age identity %s: %w", path, err)
	}
	id, ok := ids[0].(*age.X25519Identity)
	if !ok || len(ids) != 1 {
		return nil, fmt.Errorf("age identity %s: want exactly one X25519 identity", path)
	}
	return id, nil
}

func writeDurable(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
