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
// deleted only after the upstream registered the person (2xx, or the
// replay of that answer), so a power cut at any instant loses nothing
// that Enqueue has acknowledged. An entry the upstream refuses (409
// terms_changed or already registered, 422, 400 undecryptable: any final
// 4xx) is kept, still encrypted, as a dead letter (".dead") for an
// operator, counted by Dead and reported to the fleet; it is never
// deleted silently (issue 13: a refused registration was removed and
// logged as delivered, and the person had been told the e-mail would
// follow). An entry that cannot be read is set aside (".unreadable") and
// the others go on. Safe for concurrent use; Run must be called by one
// goroutine.
type Outbox struct {
	dir  string
	rcpt age.Recipient
	mu   sync.Mutex
	wake chan struct{}
	log  *slog.Logger
	// point, if set, is called at each step where a crash matters; the
	// kill test uses it to SIGKILL the process there.
	point func(name string)
	// stuck names entries that could not be read nor renamed aside;
	// they are skipped until the process restarts.
	stuck map[string]bool
}

const (
	queuedExt     = ".age"
	deadExt       = ".dead"
	heldExt       = ".held" // dead letters of before issue 13
	unreadableExt = ".unreadable"
	tmpPrefix     = ".tmp-"
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
	return &Outbox{dir: dir, rcpt: r, wake: make(chan struct{}, 1), log: logger, point: func(string) {}, stuck: map[string]bool{}}, nil
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
	padded := pad(plain)
	defer clear(padded)
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, o.rcpt)
	if err != nil {
		return fmt.Errorf("outbox: encrypt: %w", err)
	}
	if _, err := w.Write(padded); err != nil {
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

// pad returns plain followed by spaces, which JSON ignores (and the
// upstream's request hash too), to a power of two less the AEAD's
// overhead. age's stream writer buffers a chunk in a bytes.Buffer that
// must grow by the 16-byte tag before it seals the chunk in place; sized
// so, the buffer (a power of two) never grows, so no copy of the person's
// data is left behind in a buffer it outgrew (issue 13). The file size
// then tells little of the lengths of the fields, too.
func pad(plain []byte) []byte {
	const overhead = 16 // chacha20poly1305.Overhead
	n := 256
	for n-overhead < len(plain) {
		n *= 2
	}
	if n > 32<<10 { // beyond the runtime's size classes: no point
		n = len(plain) + overhead
	}
	b := make([]byte, n-overhead)
	copy(b, plain)
	for i := len(plain); i < len(b); i++ {
		b[i] = ' '
	}
	return b
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

// Dead is the number of dead letters: registrations the upstream
// refused, kept encrypted for an operator.
func (o *Outbox) Dead() (int, error) {
	d, err := filepath.Glob(filepath.Join(o.dir, "*"+deadExt))
	h, herr := filepath.Glob(filepath.Join(o.dir, "*"+heldExt))
	return len(d) + len(h), errors.Join(err, herr)
}

// SetAside is the number of entries that could not be read and were set
// aside so the others could go on.
func (o *Outbox) SetAside() (int, error) {
	m, err := filepath.Glob(filepath.Join(o.dir, "*"+unreadableExt))
	o.mu.Lock()
	n := len(o.stuck)
	o.mu.Unlock()
	return len(m) + n, err
}

// Flush sends every queued entry in order until the queue is empty (nil)
// or the upstream cannot be reached (the error, wrapping ErrUnavailable).
// An entry that cannot be read is set aside and the pass goes on.
func (o *Outbox) Flush(ctx context.Context, send SendFunc) error {
	names, err := o.pending()
	if err != nil {
		return err
	}
	for _, name := range names {
		o.mu.Lock()
		skip := o.stuck[name]
		o.mu.Unlock()
		if skip {
			continue
		}
		err := o.sendOne(ctx, name, send)
		var bad *unreadableError
		switch {
		case errors.As(err, &bad):
			o.setAside(name)
		case err != nil:
			return err
		}
	}
	return nil
}

// unreadableError is an entry that is not a file the outbox wrote: a
// directory, an unreadable file, a name without its key.
type unreadableError struct{ err error }

func (e *unreadableError) Error() string { return "outbox: unreadable entry: " + e.err.Error() }
func (e *unreadableError) Unwrap() error { return e.err }

// setAside renames an unreadable entry out of the queue (or, if even that
// fails, skips it until restart), so it never stops the others.
func (o *Outbox) setAside(name string) {
	o.log.Error("outbox entry unreadable; set aside", "err_kind", "unreadable")
	path := filepath.Join(o.dir, name)
	if err := os.Rename(path, strings.TrimSuffix(path, queuedExt)+unreadableExt); err == nil && syncDir(o.dir) == nil {
		return
	}
	o.mu.Lock()
	o.stuck[name] = true
	o.mu.Unlock()
}

func (o *Outbox) sendOne(ctx context.Context, name string, send SendFunc) error {
	path := filepath.Join(o.dir, name)
	fi, err := os.Lstat(path)
	switch {
	case err != nil:
		return &unreadableError{err}
	case !fi.Mode().IsRegular():
		return &unreadableError{fmt.Errorf("%s is not a regular file", name)}
	}
	blob, err := os.ReadFile(path)
	if err != nil {
		return &unreadableError{err}
	}
	_, rest, ok := strings.Cut(name, "-")
	key := strings.TrimSuffix(rest, queuedExt)
	if !ok || !validKey(key) {
		return &unreadableError{fmt.Errorf("no idempotency key in the name")}
	}
	o.point("send.before")
	err = send(ctx, key, blob)
	o.point("send.answered")
	var e *Error
	switch {
	case err == nil:
		o.log.Info("outbox entry delivered", "status", 201)
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("outbox: remove %s: %w", name, err)
		}
		o.point("send.removed")
		return syncDir(o.dir)
	case errors.As(err, &e) && e.Final():
		o.log.Error("outbox entry refused; kept as a dead letter", "status", e.Status, "code", e.Code)
		if err := os.Rename(path, strings.TrimSuffix(path, queuedExt)+deadExt); err != nil {
			return fmt.Errorf("outbox: keep dead letter %s: %w", name, err)
		}
		return syncDir(o.dir)
	}
	return fmt.Errorf("outbox: send: %w", err)
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
