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
	"net/textproto"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"
	"golang.org/x/crypto/bcrypt"

	"github.com/nhikiosk/nhikiosk/divisions"
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
	// Mailer delivers e-mails. nil is allowed only with DevOut (dev
	// mode: e-mails are printed, not sent); without either New fails.
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
	// the full list built in (divisions.Builtin). SetDivisions replaces
	// it while serving.
	Divisions divisions.List
	// Terms served by GET /v1/terms; zero uses the built-in DefaultTerms.
	Terms upstream.Terms
	// FailRate (0–1) answers that share of requests with 503, and Delay
	// holds every request back, for fault tests (nhisim -fail, -delay).
	FailRate float64
	Delay    time.Duration
	// PasswordCost is the bcrypt cost; 0 means bcrypt.DefaultCost.
	PasswordCost int
	// Limits are the attempt budgets; zero means DefaultLimits.
	Limits Limits
	// Compares bounds the password checks (login, password change,
	// cancellation) bcrypt runs at once; 0 means half the CPUs, at least
	// one. bcrypt is CPU-bound: unbounded, guessers take every core from
	// the requests that hash for real (a registration).
	Compares int
	// MailRetry is the first pause before a deferred (4xx) e-mail is
	// tried again; each further pause doubles, up to an hour. 0 means
	// 30s. MailGiveUp is how long a deferred e-mail is retried before it
	// is given up and counted; 0 means 24h. A refused one (5xx) is given
	// up at once.
	MailRetry, MailGiveUp time.Duration
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
	divs     atomic.Pointer[divisionSet]
	terms    upstream.Terms
	termsTag string
	wake     chan struct{}
	stats    stats
	closeMu  sync.Mutex
	// changedCh is closed (and replaced) after every committed write, to
	// wake binding long-polls.
	changedMu sync.Mutex
	changedCh chan struct{}
	lastPurge time.Time
	// dummyHash is compared against for an unknown account, so its
	// refusal costs what a known one's does (issue 13).
	dummyHash  []byte
	mailDomain string
	// compares holds a token per password check running (Options.Compares).
	compares chan struct{}
	cards    *cardAuth // card authentication exchanges (issue 24)
}

type stats struct {
	created, replayed, conflicts, sent, gaveUp, refused atomic.Int64
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
	if o.Mailer == nil && o.DevOut == nil {
		// Issue 13: without a relay, nhisim logged "mail sent" and sent
		// nothing.
		return nil, errors.New("server: a Mailer is required (only dev mode, with DevOut, prints e-mails instead)")
	}
	if o.Limits == (Limits{}) {
		o.Limits = DefaultLimits()
	}
	if o.MailRetry <= 0 {
		o.MailRetry = 30 * time.Second
	}
	if o.MailGiveUp <= 0 {
		o.MailGiveUp = 24 * time.Hour
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(randomHex(8)), o.PasswordCost)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	cm, err := cardModule(o)
	if err != nil {
		return nil, err
	}
	st, err := openStore(o.DBPath, []byte(o.Identity.String()))
	if err != nil {
		return nil, err
	}
	if o.Compares <= 0 {
		o.Compares = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if len(o.Divisions.Counties) == 0 {
		o.Divisions = divisions.Builtin()
	}
	s := &Server{o: o, st: st, terms: o.Terms, wake: make(chan struct{}, 1), changedCh: make(chan struct{}),
		dummyHash: dummy, mailDomain: mailDomain(o.MailFrom), compares: make(chan struct{}, o.Compares), cards: newCardAuth(cm)}
	ds, err := newDivisionSet(o.Divisions)
	if err != nil {
		st.close()
		return nil, err
	}
	s.divs.Store(ds)
	if s.terms.Version == "" {
		s.terms = DefaultTerms()
	}
	s.termsTag = etagOf(s.terms)
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
// conflicts, e-mails delivered, e-mails given up after being deferred
// (4xx) for MailGiveUp, and e-mails the relay refused (5xx).
type Stats struct {
	Created, Replayed, Conflicts, MailSent, MailGivenUp, MailRefused int64
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{s.stats.created.Load(), s.stats.replayed.Load(), s.stats.conflicts.Load(), s.stats.sent.Load(),
		s.stats.gaveUp.Load(), s.stats.refused.Load()}
}

// Counts reports what the database holds.
func (s *Server) Counts() (Counts, error) { return s.st.counts() }

// Run delivers queued e-mails until ctx ends, each on its own schedule:
// the one due first is tried; a deferral (4xx, or no answer) makes it due
// again after a pause that doubles from MailRetry up to an hour, until
// MailGiveUp has passed since it was queued; a refusal (5xx) gives it up
// at once. So one deferred address never holds the others back (issue
// 13). E-mails are queued in the same transaction as the answer that
// causes them, so a crash between the two loses none; the attempt is
// recorded before the relay is called, so a crash while it runs retries
// later with the same Message-ID.
func (s *Server) Run(ctx context.Context) error {
	for {
		wait, err := s.deliverNext(ctx)
		if err != nil {
			s.o.Logger.Warn("mail queue", "err", err)
			wait = s.o.MailRetry
		}
		if wait > 0 {
			s.purgeHourly()
		}
		if wait < 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-time.After(wait):
		}
	}
}

// deliverNext tries the job due first, if it is due, and returns how long
// to wait for the next one (-1: go on at once).
func (s *Server) deliverNext(ctx context.Context) (time.Duration, error) {
	seq, job, ok, err := s.st.nextMail()
	if err != nil {
		if seq != nil {
			s.o.Logger.Error("mail job unreadable; set aside", "err", err)
			return -1, s.st.dropMailSchedule(seq)
		}
		return 0, err
	}
	now := s.o.Now()
	switch {
	case !ok:
		return time.Minute, nil
	case job.Due.After(now):
		return min(job.Due.Sub(now), time.Minute), nil
	}
	pause := s.o.MailRetry << min(job.Attempts, 20)
	if pause > time.Hour || pause <= 0 {
		pause = time.Hour
	}
	if job, err = s.st.rescheduleMail(seq, job, now.Add(pause)); err != nil {
		return 0, err
	}
	err = s.deliver(ctx, job)
	switch {
	case err == nil:
	case permanent(err):
		s.stats.refused.Add(1)
		s.o.Logger.Error("mail refused; given up", "kind", job.Kind, "attempts", job.Attempts, "err", err,
			"refused_total", s.stats.refused.Load())
	case s.o.Now().Sub(job.Queued) >= s.o.MailGiveUp:
		s.stats.gaveUp.Add(1)
		s.o.Logger.Error("mail deferred too long; given up", "kind", job.Kind, "attempts", job.Attempts, "err", err,
			"given_up_total", s.stats.gaveUp.Load())
	default:
		s.o.Logger.Warn("mail deferred", "kind", job.Kind, "attempts", job.Attempts, "err", err, "retry_in", pause)
		return -1, nil
	}
	if ctx.Err() != nil && err != nil {
		return 0, nil
	}
	return -1, s.st.deleteMail(seq, job)
}

// permanent reports whether err is an SMTP 5xx reply: the relay refused
// the message for good (e.g. 550 no such mailbox).
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
	if s.o.Mailer == nil {
		s.o.Logger.Info("mail printed, not sent (dev mode)", "kind", job.Kind)
	} else {
		if err := s.o.Mailer.Send(ctx, m); err != nil {
			return fmt.Errorf("send %s mail: %w", job.Kind, err)
		}
		s.stats.sent.Add(1)
		s.o.Logger.Info("mail sent", "kind", job.Kind, "attempts", job.Attempts)
	}
	if s.o.DevOut != nil {
		fmt.Fprintf(s.o.DevOut, "nhisim dev: %s e-mail reference=%s code=%s link=%s\n", job.Kind, job.Reference, job.Code, link(s.o.PublicURL, job.Reference))
	}
	return nil
}

// mailDomain is the domain of the sender address, for Message-IDs.
func mailDomain(from string) string {
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		return strings.Trim(d, "<> ")
	}
	return "nhisim.invalid"
}
