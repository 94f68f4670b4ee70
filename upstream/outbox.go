package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
)

// SendFunc sends one queued registration (its key and age blob) once. It
// returns nil when the upstream registered it, a *Error when the upstream
// answered with a 4xx, and anything else (wrapping ErrUnavailable) when
// there was no answer.
type SendFunc func(ctx context.Context, key string, blob []byte) error

// Outbox keeps registrations the upstream could not take, each in its own
// file under dir, encrypted to the upstream's age X25519 recipient: the
// kiosk holds no key that could read them back. The Idempotency-Key is the
// file name (outside the ciphertext), so a resend after any crash is
// recognised by the upstream and never registers twice.
//
// Files are written temp file + fsync + rename + directory fsync, and
// deleted only after a final answer (2xx, 409, 422), so a power cut at any
// instant loses nothing that Enqueue has acknowledged. Other 4xx answers
// (e.g. the upstream cannot decrypt after a key change) are set aside as
// ".held" for an operator instead of being retried or lost. Safe for
// concurrent use; Run must be called by one goroutine.
type Outbox struct {
	dir  string
	rcpt age.Recipient
	mu   sync.Mutex
	wake chan struct{}
	log  *slog.Logger
	// point, if set, is called at each step where a crash matters; the
	// kill test uses it to SIGKILL the process there.
	point func(name string)
}

const (
	queuedExt = ".age"
	heldExt   = ".held"
	tmpPrefix = ".tmp-"
)

// OpenOutbox opens (creating, mode 0700) the outbox in dir, whose entries
// are encrypted to recipient ("age1…"). Half-written temp files of an
// Enqueue that never returned are removed.
func OpenOutbox(dir, recipient string, logger *slog.Logger) (*Outbox, error) {
	r, err := age.ParseX25519Recipient(recipient)
	if err != nil {
		return nil, fmt.Errorf("outbox: recipient: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("outbox: create %s: %w", dir, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("outbox: list: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Outbox{dir: dir, rcpt: r, wake: make(chan struct{}, 1), log: logger, point: func(string) {}}, nil
}

func validKey(k string) bool {
	if k == "" || len(k) > IdemKeyMaxBytes {
		return false
	}
	for i := range len(k) {
		c := k[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Enqueue encrypts plain (a Registration's JSON) and stores it durably
// under key. When it returns nil the registration survives any crash.
func (o *Outbox) Enqueue(key string, plain []byte) error {
	if !validKey(key) {
		return errors.New("outbox: bad idempotency key")
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, o.rcpt)
	if err != nil {
		return fmt.Errorf("outbox: encrypt: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return fmt.Errorf("outbox: encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("outbox: encrypt: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	name := fmt.Sprintf("%020d-%s%s", time.Now().UnixNano(), key, queuedExt)
	if err := o.writeFile(name, buf.Bytes()); err != nil {
		return err
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return nil
}

// writeFile is temp file + fsync + rename + directory fsync.
func (o *Outbox) writeFile(name string, data []byte) error {
	f, err := os.CreateTemp(o.dir, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("outbox: create temp: %w", err)
	}
	tmp := f.Name()
	o.point("enqueue.created")
	_, err = f.Write(data)
	o.point("enqueue.written")
	if err == nil {
		err = f.Sync()
	}
	o.point("enqueue.synced")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(o.dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("outbox: write %s: %w", name, err)
	}
	o.point("enqueue.renamed")
	if err := syncDir(o.dir); err != nil {
		return fmt.Errorf("outbox: sync dir: %w", err)
	}
	o.point("enqueue.dir_synced")
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// pending lists queued entries, oldest first.
func (o *Outbox) pending() ([]string, error) {
	ents, err := os.ReadDir(o.dir)
	if err != nil {
		return nil, fmt.Errorf("outbox: list: %w", err)
	}
	var names []string
	for _, e := range ents {
		if n := e.Name(); strings.HasSuffix(n, queuedExt) && !strings.HasPrefix(n, tmpPrefix) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// Len is the number of registrations waiting to be sent.
func (o *Outbox) Len() (int, error) {
	n, err := o.pending()
	return len(n), err
}

// Held is the number of entries set aside after an unexpected 4xx.
func (o *Outbox) Held() (int, error) {
	m, err := filepath.Glob(filepath.Join(o.dir, "*"+heldExt))
	return len(m), err
}

// Flush sends every queued entry in order until the queue is empty (nil)
// or the upstream cannot be reached (the error, wrapping ErrUnavailable).
func (o *Outbox) Flush(ctx context.Context, send SendFunc) error {
	names, err := o.pending()
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := o.sendOne(ctx, name, send); err != nil {
			return err
		}
	}
	return nil
}

func (o *Outbox) sendOne(ctx context.Context, name string, send SendFunc) error {
	path := filepath.Join(o.dir, name)
	blob, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("outbox: read %s: %w", name, err)
	}
	key := strings.TrimSuffix(name[strings.IndexByte(name, '-')+1:], queuedExt)
	o.point("send.before")
	err = send(ctx, key, blob)
	o.point("send.answered")
	var e *Error
	switch {
	case err == nil, errors.As(err, &e) && (e.Status == 409 || e.Status == 422):
		o.log.Info("outbox entry delivered", "status", statusOf(e), "code", Code(err))
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("outbox: remove %s: %w", name, err)
		}
		o.point("send.removed")
		return syncDir(o.dir)
	case errors.As(err, &e) && e.Final():
		o.log.Error("outbox entry refused; held for an operator", "status", e.Status, "code", e.Code)
		if err := os.Rename(path, strings.TrimSuffix(path, queuedExt)+heldExt); err != nil {
			return fmt.Errorf("outbox: hold %s: %w", name, err)
		}
		return syncDir(o.dir)
	}
	return fmt.Errorf("outbox: send: %w", err)
}

func statusOf(e *Error) int {
	if e == nil {
		return 201
	}
	return e.Status
}

// Run flushes the outbox whenever something is enqueued, and after a
// failure retries with exponential backoff and jitter (1s up to 5m),
// until ctx ends.
func (o *Outbox) Run(ctx context.Context, send SendFunc) error {
	fails := 0
	for {
		wait := time.Minute
		if err := o.Flush(ctx, send); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			o.log.Warn("outbox flush failed", "err_kind", errKind(err), "retry", fails+1)
			wait = Backoff(time.Second, 5*time.Minute, fails)
			fails++
		} else {
			fails = 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-o.wake:
		case <-time.After(wait):
		}
	}
}

func errKind(err error) string {
	if errors.Is(err, ErrUnavailable) {
		return "unavailable"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated"
	}
	return "local"
}
