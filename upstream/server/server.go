// Package server owns the upstream side of the registration API and of
// the account services (sessions with the lock after 5 wrong passwords,
// mobile device bindings and their long-poll, contact and password
// changes): the HTTP handlers, their storage (an embedded bbolt database whose personal data
// is sealed with a key derived from the server's age identity), the durable
// queue of confirmation, resend and reset e-mails and their delivery over
// SMTP. cmd/nhisim serves it over TLS with client certificates, or plain
// HTTP on loopback in dev mode; kiosk -demo and tests run it in process:
//
//	srv, _ := server.New(server.Options{DBPath: p, Identity: id, DevOut: os.Stdout})
//	go srv.Run(ctx)                      // delivers queued e-mails
//	go http.Serve(loopbackListener, srv.Handler())
//
// It never logs personal data: log lines carry the path, status and error
// code only. The DevOut printout carries only the reference and the code.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/textproto"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"
	"golang.org/x/crypto/bcrypt"

	"github.com/nhikiosk/nhikiosk/upstream"
)

// Options configure a Server.
type Options struct {
	// DBPath is the bbolt database file; it is created if missing and
	// survives restarts.
	DBPath string
	// Identity is the server's age X25519 identity: it decrypts queued
	// registrations from kiosks' outboxes (sent as ContentAgeJSON) and
	// keys the sealing of stored records. Kiosks get its Recipient().
	Identity *age.X25519Identity
	// Mailer delivers e-mails; nil means none are sent (DevOut only).
	Mailer Mailer
	// MailFrom is the sender address of the e-mails.
	MailFrom string
	// DevOut, if set, gets one line per e-mail sent with its kind,
	// reference, code and link, never the address (nhisim -dev prints it).
	DevOut io.Writer
	// PublicURL is the base of the link in e-mails (e.g.
	// "https://nhisim.example"); empty uses "http://localhost".
	PublicURL string
	// Divisions for GET /v1/divisions and address checks; zero uses
	// the built-in Sample.
	Divisions upstream.Divisions
	// Terms served by GET /v1/terms; zero uses the built-in DefaultTerms.
	Terms upstream.Terms
	// FailRate (0–1) answers that share of requests with 503, and Delay
	// holds every request back, for fault tests (nhisim -fail, -delay).
	FailRate float64
	Delay    time.Duration
	// PasswordCost is the bcrypt cost; 0 means bcrypt.DefaultCost.
	PasswordCost int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets one line per request (path, status, code); nil discards.
	Logger *slog.Logger
	// CardAuth is the card authentication (cardauth.go): CardAuthSim
	// (nhisim's simulated module) or CardAuthOff; "" is off.
	// CardModule, if set, is the security module instead (the NHI's
	// behind an adapter, or a test's).
	CardAuth   string
	CardModule CardModule
}

// Server is the reference upstream. Its Handler is safe for concurrent
// use; Run delivers e-mails until its context ends.
type Server struct {
	o        Options
	st       *store
	divs     upstream.Divisions
	terms    upstream.Terms
	termsTag string
	divsTag  string
	wake     chan struct{}
	stats    stats
	closeMu  sync.Mutex
	// changedCh is closed (and replaced) after every committed write, to
	// wake binding long-polls.
	changedMu sync.Mutex
	changedCh chan struct{}
	// bindFails counts unknown binding codes per client (certificate CN)
	// in the current minute, against guessing.
	bindMu    sync.Mutex
	bindFails map[string]*window
	lastPurge time.Time
	cards     *cardAuth // card authentication exchanges (issue 24)
}

type stats struct {
	created, replayed, conflicts, sent atomic.Int64
}

// New opens the database and prepares a Server.
func New(o Options) (*Server, error) {
	if o.Identity == nil {
		return nil, errors.New("server: an age identity is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PasswordCost == 0 {
		o.PasswordCost = bcrypt.DefaultCost
	}
	if o.PublicURL == "" {
		o.PublicURL = "http://localhost"
	}
	if o.MailFrom == "" {
		o.MailFrom = "nhisim@localhost"
	}
	cm, err := cardModule(o)
	if err != nil {
		return nil, err
	}
	st, err := openStore(o.DBPath, []byte(o.Identity.String()))
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, st: st, divs: o.Divisions, terms: o.Terms, wake: make(chan struct{}, 1), changedCh: make(chan struct{}), bindFails: map[string]*window{}, cards: newCardAuth(cm)}
	if len(s.divs.Counties) == 0 {
		s.divs = Sample()
	}
	if s.terms.Version == "" {
		s.terms = DefaultTerms()
	}
	s.termsTag, s.divsTag = etagOf(s.terms), etagOf(s.divs)
	return s, nil
}

// Close closes the database. Call it after Run has returned and the
// handler is no longer served.
func (s *Server) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	return s.st.close()
}

// Stats are counters since New: registrations created, answers replayed
// for a repeated Idempotency-Key, 409 pending_exists/already_registered
// conflicts, and e-mails delivered.
type Stats struct {
	Created, Replayed, Conflicts, MailSent int64
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{s.stats.created.Load(), s.stats.replayed.Load(), s.stats.conflicts.Load(), s.stats.sent.Load()}
}

// Counts reports what the database holds.
func (s *Server) Counts() (Counts, error) { return s.st.counts() }

// Run delivers queued e-mails, oldest first, retrying with backoff, until
// ctx ends. E-mails are queued in the same transaction as the answer that
// causes them, so a crash between the two loses none.
func (s *Server) Run(ctx context.Context) error {
	backoff := time.Second
	for {
		key, job, ok, err := s.st.nextMail()
		if err == nil && ok {
			err = s.deliver(ctx, job)
			if permanent(err) {
				// The relay refused the message for good (e.g. 550 no such
				// mailbox): retrying would block every e-mail behind it.
				s.o.Logger.Error("mail refused permanently; dropped", "kind", job.Kind, "err", err)
				err = nil
			}
			if err == nil {
				err = s.st.deleteMail(key)
			}
		}
		wait := time.Duration(0)
		switch {
		case err != nil:
			s.o.Logger.Warn("mail delivery failed", "err", err, "retry_in", backoff)
			wait = backoff
			backoff = min(2*backoff, time.Minute)
		case !ok:
			wait = time.Minute
			backoff = time.Second
			s.purgeHourly()
		default:
			backoff = time.Second
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-time.After(wait + time.Duration(rand.Int64N(int64(wait/10)+1))):
		}
	}
}

// permanent reports whether err is an SMTP 5xx reply.
func permanent(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500
}

func (s *Server) notifyMail() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Server) deliver(ctx context.Context, job mailJob) error {
	if job.Kind == "sms" {
		// nhisim cannot send an SMS: it records it, with the number masked
		// to its last 3 digits, and -dev prints the code.
		s.o.Logger.Info("sms recorded", "kind", "binding_code", "to", maskMobile(job.To))
		if s.o.DevOut != nil {
			fmt.Fprintf(s.o.DevOut, "nhisim dev: sms to %s binding code=%s\n", maskMobile(job.To), job.Code)
		}
		return nil
	}
	m := compose(job, s.o.MailFrom, s.o.PublicURL)
	if s.o.Mailer != nil {
		if err := s.o.Mailer.Send(ctx, m); err != nil {
			return fmt.Errorf("send %s mail: %w", job.Kind, err)
		}
	}
	s.stats.sent.Add(1)
	s.o.Logger.Info("mail sent", "kind", job.Kind)
	if s.o.DevOut != nil {
		fmt.Fprintf(s.o.DevOut, "nhisim dev: %s e-mail reference=%s code=%s link=%s\n", job.Kind, job.Reference, job.Code, link(s.o.PublicURL, job.Reference))
	}
	return nil
}
