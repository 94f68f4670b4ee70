package server

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"

	"github.com/nhikiosk/nhikiosk/upstream"
)

// Buckets of the bbolt database.
var (
	bucketPeople = []byte("people")    // hmac(card|id) → sealed record
	bucketIdem   = []byte("idem")      // path + key → stored answer
	bucketMail   = []byte("mail")      // sequence → sealed mail job
	bucketSess   = []byte("sessions")  // hmac(token) → sealed sessionRec
	bucketBind   = []byte("bindings")  // binding id → sealed bindingRec
	bucketCodes  = []byte("bindcodes") // hmac(code) → binding id
)

// record is one person's registration as nhisim keeps it. It is sealed
// (XChaCha20-Poly1305) before it reaches disk; the password and the codes
// are only kept as hashes.
type record struct {
	ID           string                `json:"id"`
	Reference    string                `json:"reference"`
	Status       string                `json:"status"`
	Reg          upstream.Registration `json:"reg"` // Password always empty
	PasswordHash []byte                `json:"password_hash"`
	Code         codeState             `json:"code"`
	Reset        codeState             `json:"reset"`
	Created      time.Time             `json:"created"`
	// Account services (issue 8).
	PasswordFails int         `json:"password_fails,omitempty"` // wrong passwords in a row
	Locked        bool        `json:"locked,omitempty"`         // until a password reset
	PendingEmail  string      `json:"pending_email,omitempty"`  // new primary e-mail, unconfirmed
	EmailCode     codeState   `json:"email_code"`
	Devices       []deviceRec `json:"devices,omitempty"`
}

// deviceRec is a linked mobile device.
type deviceRec struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	LinkedAt time.Time `json:"linked_at"`
	LastUsed time.Time `json:"last_used"`
}

// sessionRec is a logged-in kiosk session; it is stored under a keyed
// hash of its token, so the token itself is never on disk.
type sessionRec struct {
	PersonKey []byte    `json:"person_key"`
	Kiosk     string    `json:"kiosk"`
	Expires   time.Time `json:"expires"`
}

// bindingRec is a started mobile device binding.
type bindingRec struct {
	ID        string    `json:"id"`
	PersonKey []byte    `json:"person_key"`
	Expires   time.Time `json:"expires"`
	Used      bool      `json:"used,omitempty"`
	Device    deviceRec `json:"device"`
	CodeKey   []byte    `json:"code_key"` // its key in bucketCodes
}

// purgeAfter is how long an ended session or binding stays: long enough
// for a late poll or phone to get "expired" rather than "unknown".
const purgeAfter = 24 * time.Hour

// purge deletes sessions and bindings that ended before now-purgeAfter.
func (s *store) purge(now time.Time) (n int, err error) {
	cut := now.Add(-purgeAfter)
	err = s.db.Update(func(tx *bolt.Tx) error {
		var dead [][]byte
		err := tx.Bucket(bucketSess).ForEach(func(k, v []byte) error {
			var r sessionRec
			if s.open(v, &r) != nil || r.Expires.Before(cut) {
				dead = append(dead, k)
			}
			return nil
		})
		for _, k := range dead {
			if err == nil {
				err = tx.Bucket(bucketSess).Delete(k)
			}
		}
		n = len(dead)
		dead = dead[:0]
		var codes [][]byte
		if err == nil {
			err = tx.Bucket(bucketBind).ForEach(func(k, v []byte) error {
				var b bindingRec
				if s.open(v, &b) != nil || b.Expires.Before(cut) {
					dead, codes = append(dead, k), append(codes, b.CodeKey)
				}
				return nil
			})
		}
		for i, k := range dead {
			if err == nil {
				err = tx.Bucket(bucketBind).Delete(k)
			}
			if err == nil && codes[i] != nil {
				err = tx.Bucket(bucketCodes).Delete(codes[i])
			}
		}
		n += len(dead)
		return err
	})
	return n, err
}

// codeState is an e-mailed code: its keyed hash, expiry and wrong tries.
type codeState struct {
	Hash        []byte    `json:"hash,omitempty"`
	Expires     time.Time `json:"expires"`
	Tries       int       `json:"tries"`
	LockedUntil time.Time `json:"locked_until"`
}

// storedAnswer is a reply kept for an idempotency key.
type storedAnswer struct {
	RequestHash []byte `json:"request_hash"`
	Status      int    `json:"status"`
	Body        []byte `json:"body"`
}

// mailJob is one e-mail waiting in the durable mail queue.
type mailJob struct {
	Kind      string `json:"kind"` // confirm, resend, reset, email_change, sms (logged only)
	To        string `json:"to"`
	Reference string `json:"reference"`
	Code      string `json:"code"`
}

// store is nhisim's storage: a bbolt file whose personal data is sealed
// with a key derived from the server's age identity.
type store struct {
	db     *bolt.DB
	aead   cipher.AEAD
	macKey []byte
}

func openStore(path string, secret []byte) (*store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketPeople, bucketIdem, bucketMail, bucketSess, bucketBind, bucketCodes} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("create buckets: %w", err)
	}
	keys := hkdf.New(sha256.New, secret, nil, []byte("nhisim store v1"))
	sealKey, macKey := make([]byte, chacha20poly1305.KeySize), make([]byte, 32)
	if _, err := io.ReadFull(keys, sealKey); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(keys, macKey); err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(sealKey)
	if err != nil {
		return nil, err
	}
	return &store{db: db, aead: aead, macKey: macKey}, nil
}

func (s *store) close() error { return s.db.Close() }

// personKey is the keyed hash that indexes a person: the card number and
// ID number never appear on disk in clear.
func (s *store) personKey(card, id string) []byte {
	return s.mac("person", card+"|"+id)
}

func (s *store) mac(domain, v string) []byte {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(v))
	return m.Sum(nil)
}

func (s *store) seal(v any) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, nil), nil
}

func (s *store) open(b []byte, v any) error {
	n := s.aead.NonceSize()
	if len(b) < n {
		return errors.New("sealed value too short")
	}
	plain, err := s.aead.Open(nil, b[:n], b[n:], nil)
	if err != nil {
		return fmt.Errorf("unseal: %w", err)
	}
	return json.Unmarshal(plain, v)
}

// getPerson reads a person's record; ok is false if there is none.
func (s *store) getPerson(tx *bolt.Tx, card, id string) (rec record, ok bool, err error) {
	b := tx.Bucket(bucketPeople).Get(s.personKey(card, id))
	if b == nil {
		return rec, false, nil
	}
	if err := s.open(b, &rec); err != nil {
		return rec, false, fmt.Errorf("read record: %w", err)
	}
	return rec, true, nil
}

// getPersonByKey reads a person's record by its index key (a session's
// or binding's PersonKey).
func (s *store) getPersonByKey(tx *bolt.Tx, key []byte) (rec record, ok bool, err error) {
	b := tx.Bucket(bucketPeople).Get(key)
	if b == nil {
		return rec, false, nil
	}
	if err := s.open(b, &rec); err != nil {
		return rec, false, fmt.Errorf("read record: %w", err)
	}
	return rec, true, nil
}

// getSealed reads and unseals bucket[key] into v; ok is false if absent.
func (s *store) getSealed(tx *bolt.Tx, bucket, key []byte, v any) (ok bool, err error) {
	b := tx.Bucket(bucket).Get(key)
	if b == nil {
		return false, nil
	}
	return true, s.open(b, v)
}

// putSealed seals v into bucket[key].
func (s *store) putSealed(tx *bolt.Tx, bucket, key []byte, v any) error {
	b, err := s.seal(v)
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	return tx.Bucket(bucket).Put(key, b)
}

func (s *store) putPerson(tx *bolt.Tx, rec record) error {
	b, err := s.seal(rec)
	if err != nil {
		return fmt.Errorf("seal record: %w", err)
	}
	return tx.Bucket(bucketPeople).Put(s.personKey(rec.Reg.CardNumber, rec.Reg.IDNumber), b)
}

func (s *store) deletePerson(tx *bolt.Tx, card, id string) error {
	return tx.Bucket(bucketPeople).Delete(s.personKey(card, id))
}

// queueMail adds a mail job in the same transaction as the change that
// causes it, so an answer and its e-mail commit together.
func (s *store) queueMail(tx *bolt.Tx, job mailJob) error {
	b := tx.Bucket(bucketMail)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	sealed, err := s.seal(job)
	if err != nil {
		return err
	}
	return b.Put(seqKey(seq), sealed)
}

func seqKey(n uint64) []byte {
	k := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		k[i] = byte(n)
		n >>= 8
	}
	return k
}

// nextMail returns the oldest queued mail job, or ok false.
func (s *store) nextMail() (key []byte, job mailJob, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(bucketMail).Cursor().First()
		if k == nil {
			return nil
		}
		key, ok = append([]byte(nil), k...), true
		return s.open(v, &job)
	})
	return key, job, ok, err
}

func (s *store) deleteMail(key []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMail).Delete(key) })
}

// Counts is what nhisim holds, for tests and the kill test's check.
type Counts struct {
	People, Pending, Active, QueuedMail int
	Sessions, Bindings                  int
}

func (s *store) counts() (Counts, error) {
	var c Counts
	err := s.db.View(func(tx *bolt.Tx) error {
		c.QueuedMail = tx.Bucket(bucketMail).Stats().KeyN
		c.Sessions, c.Bindings = tx.Bucket(bucketSess).Stats().KeyN, tx.Bucket(bucketBind).Stats().KeyN
		return tx.Bucket(bucketPeople).ForEach(func(_, v []byte) error {
			var rec record
			if err := s.open(v, &rec); err != nil {
				return err
			}
			c.People++
			if rec.Status == upstream.StatusActive {
				c.Active++
			} else {
				c.Pending++
			}
			return nil
		})
	})
	return c, err
}
