package server

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
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
	bucketPeople  = []byte("people")    // hmac(id number) → sealed record
	bucketIdem    = []byte("idem")      // path + key → sealed stored answer
	bucketMail    = []byte("mail")      // sequence → sealed mail job
	bucketMailDue = []byte("maildue")   // due time + sequence → nothing: the mail queue's schedule
	bucketSess    = []byte("sessions")  // hmac(token) → sealed sessionRec
	bucketBind    = []byte("bindings")  // binding id → sealed bindingRec
	bucketCodes   = []byte("bindcodes") // hmac(code) → binding id
	bucketBudgets = []byte("budgets")   // purpose + subject → spent (attempt budgets)
	bucketMeta    = []byte("meta")      // "schema" → version
)

var allBuckets = [][]byte{bucketPeople, bucketIdem, bucketMail, bucketMailDue, bucketSess, bucketBind,
	bucketCodes, bucketBudgets, bucketMeta}

// schemaVersion is the database layout: 2 keys people by ID number
// alone (one account per ID, issue 13), 1 keyed them by card and ID.
const schemaVersion = "2"

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
	// CreatedBy is the hash of the path and Idempotency-Key that created
	// the record, and CreatedHash the hash of that request: a replay
	// after the stored answer was purged still gets its 201.
	CreatedBy   []byte `json:"created_by,omitempty"`
	CreatedHash []byte `json:"created_hash,omitempty"`
	// Account services (issue 8).
	PendingEmail string      `json:"pending_email,omitempty"` // new primary e-mail, unconfirmed
	EmailCode    codeState   `json:"email_code"`
	Devices      []deviceRec `json:"devices,omitempty"`
	// Epoch counts password changes and resets: a session from an
	// earlier epoch has ended.
	Epoch int `json:"epoch,omitempty"`
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
	Epoch     int       `json:"epoch,omitempty"` // the record's Epoch at login
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

// codeState is an e-mailed code: its keyed hash and expiry. Wrong tries
// are counted by an attempt budget of the account, not here, so a new
// code does not reset them (issue 13).
type codeState struct {
	Hash    []byte    `json:"hash,omitempty"`
	Expires time.Time `json:"expires"`
}

// storedAnswer is a reply kept for an idempotency key until
// upstream.IdemRetention after At.
type storedAnswer struct {
	RequestHash []byte    `json:"request_hash"`
	Status      int       `json:"status"`
	Body        []byte    `json:"body"`
	At          time.Time `json:"at"`
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
		db.Close()
		return nil, err
	}
	st := &store{db: db, aead: aead, macKey: macKey}
	if err := db.Update(st.prepare); err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare database %s: %w", path, err)
	}
	return st, nil
}

// prepare creates the buckets and brings a database of schema 1 to
// schema 2: people are keyed by ID number alone, so one ID has one
// account. Where schema 1 held two records for one ID (two card
// numbers), the active one, else the newer one, is kept. Sessions and
// bindings, which point at the old keys, are dropped: they last minutes.
func (s *store) prepare(tx *bolt.Tx) error {
	for _, b := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	if string(meta.Get([]byte("schema"))) == schemaVersion {
		return nil
	}
	people := tx.Bucket(bucketPeople)
	keep := map[string]record{}
	var old [][]byte
	err := people.ForEach(func(k, v []byte) error {
		var rec record
		if err := s.open(v, &rec); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		old = append(old, bytes.Clone(k))
		nk := string(s.personKey(rec.Reg.IDNumber))
		if cur, ok := keep[nk]; ok && (cur.Status == upstream.StatusActive || rec.Status != upstream.StatusActive && cur.Created.After(rec.Created)) {
			return nil
		}
		keep[nk] = rec
		return nil
	})
	for _, k := range old {
		if err == nil {
			err = people.Delete(k)
		}
	}
	for _, rec := range keep {
		if err == nil {
			err = s.putPerson(tx, rec)
		}
	}
	if err == nil {
		err = s.scheduleOldMail(tx)
	}
	for _, b := range [][]byte{bucketSess, bucketBind, bucketCodes} {
		if err == nil {
			if err = tx.DeleteBucket(b); err == nil {
				_, err = tx.CreateBucket(b)
			}
		}
	}
	if err != nil {
		return err
	}
	return meta.Put([]byte("schema"), []byte(schemaVersion))
}

func (s *store) close() error { return s.db.Close() }

// scheduleOldMail gives the mail jobs of a schema 1 database a
// Message-ID and a place in the schedule, due at once.
func (s *store) scheduleOldMail(tx *bolt.Tx) error {
	mail := tx.Bucket(bucketMail)
	var seqs [][]byte
	if err := mail.ForEach(func(k, _ []byte) error { seqs = append(seqs, bytes.Clone(k)); return nil }); err != nil {
		return err
	}
	for _, seq := range seqs {
		var job mailJob
		if _, err := s.getSealed(tx, bucketMail, seq, &job); err != nil {
			return fmt.Errorf("migrate mail: %w", err)
		}
		if job.MessageID == "" {
			job.MessageID = fmt.Sprintf("<%s.%d@nhisim>", randomHex(12), binary.BigEndian.Uint64(seq))
		}
		if err := s.putSealed(tx, bucketMail, seq, job); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMailDue).Put(dueKey(job.Due, seq), nil); err != nil {
			return err
		}
	}
	return nil
}

// personKey is the keyed hash that indexes a person by ID number: one
// account per ID (a replaced card keeps it), and the ID number never
// appears on disk in clear.
func (s *store) personKey(id string) []byte {
	return s.mac("person-id", id)
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

// getPerson reads the record of ID number id; ok is false if there is none.
func (s *store) getPerson(tx *bolt.Tx, id string) (rec record, ok bool, err error) {
	return s.getPersonByKey(tx, s.personKey(id))
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
	return tx.Bucket(bucketPeople).Put(s.personKey(rec.Reg.IDNumber), b)
}

func (s *store) deletePerson(tx *bolt.Tx, id string) error {
	return tx.Bucket(bucketPeople).Delete(s.personKey(id))
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
