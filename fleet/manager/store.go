package manager

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bucket names one kind of record in the database. Every bucket is listed
// in buckets so OpenStore creates it; a new kind of record (releases,
// rollouts, groups, jobs…) adds its bucket there and uses the same
// Put/Get/Each/Write API.
type Bucket []byte

// Buckets of fleetd's database.
var (
	BucketKiosks     = Bucket("kiosks")     // site/kiosk → Kiosk (its alerts included; health aside)
	BucketEvents     = Bucket("events")     // site/kiosk \x00 ts seq → EventRecord
	BucketHealth     = Bucket("health")     // site/kiosk \x00 ts → HealthSample
	BucketCommands   = Bucket("commands")   // id → CommandRecord
	BucketAudit      = Bucket("audit")      // \x00 ts seq → AuditEntry
	BucketUsers      = Bucket("users")      // name → User
	BucketMeta       = Bucket("meta")       // settings and fleet-wide records
	BucketEnrollment = Bucket("enrollment") // site/kiosk → enrollRecord
)

var buckets = append([]Bucket{BucketKiosks, BucketEvents, BucketHealth, BucketCommands, BucketAudit, BucketUsers, BucketMeta, BucketEnrollment},
	opsBuckets...)

// Store is fleetd's embedded database (bbolt): every record that must
// survive a restart or a power loss (bbolt fsyncs each transaction). Writes
// from the message path are batched by the manager so thousands of kiosks
// cost a few transactions a second; operators' actions are written at once.
// Its methods are safe for concurrent use.
type Store struct {
	db *bolt.DB
}

// OpenStore opens (creating) the database file. Only one process may have
// it open; a second one waits two seconds and fails.
func OpenStore(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open fleetd database %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
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
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Op is one write of a transaction: Val encoded as JSON under Key, or the
// key deleted.
type Op struct {
	Bucket Bucket
	Key    []byte
	Val    any
	Delete bool
}

// Put is an Op that stores v under key.
func Put(b Bucket, key []byte, v any) Op { return Op{Bucket: b, Key: key, Val: v} }

// Del is an Op that deletes key.
func Del(b Bucket, key []byte) Op { return Op{Bucket: b, Key: key, Delete: true} }

// Write applies ops in one transaction: all or none.
func (s *Store) Write(ops ...Op) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, p := range ops {
			bk := tx.Bucket(p.Bucket)
			if bk == nil {
				return fmt.Errorf("write: no bucket %q", p.Bucket)
			}
			if p.Delete {
				if err := bk.Delete(p.Key); err != nil {
					return fmt.Errorf("delete %s: %w", p.Bucket, err)
				}
				continue
			}
			b, err := json.Marshal(p.Val)
			if err != nil {
				return fmt.Errorf("encode %s: %w", p.Bucket, err)
			}
			if err := bk.Put(p.Key, b); err != nil {
				return fmt.Errorf("put %s: %w", p.Bucket, err)
			}
		}
		return nil
	})
}

// Get decodes the record under key into v; it reports whether there was one.
func (s *Store) Get(b Bucket, key []byte, v any) (bool, error) {
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(b).Get(key)
		if raw == nil {
			return nil
		}
		found = true
		return json.Unmarshal(raw, v)
	})
	if err != nil {
		return found, fmt.Errorf("get %s: %w", b, err)
	}
	return found, nil
}

// Each calls f with every record of bucket b whose key starts with prefix,
// in key order, until f returns an error. The value is only valid during
// the call.
func (s *Store) Each(b Bucket, prefix []byte, f func(key, val []byte) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(b).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if err := f(k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Last calls f with the records of bucket b from the last backwards,
// until f returns false.
func (s *Store) Last(b Bucket, f func(key, val []byte) bool) error {
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(b).Cursor()
		for k, v := c.Last(); k != nil && f(k, v); k, v = c.Prev() {
		}
		return nil
	})
}

// EachJSON decodes every record of bucket b under prefix as a T and calls
// f with it; undecodable records are skipped.
func EachJSON[T any](s *Store, b Bucket, prefix []byte, f func(key []byte, v T) error) error {
	return s.Each(b, prefix, func(k, raw []byte) error {
		var v T
		if json.Unmarshal(raw, &v) != nil {
			return nil
		}
		return f(k, v)
	})
}

// TimeKey is prefix \x00 big-endian nanoseconds seq, so keys sort by time.
func TimeKey(prefix string, t time.Time, seq uint64) []byte {
	k := make([]byte, 0, len(prefix)+17)
	k = append(k, prefix...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, uint64(t.UnixNano()))
	return binary.BigEndian.AppendUint64(k, seq)
}

// scanKiosk returns records of kiosk ref in bucket newer than since,
// oldest first; at most limit (0 = all) of the newest.
func scanKiosk[T any](s *Store, bucket Bucket, ref string, since time.Time, limit int) ([]T, error) {
	var out []T
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		prefix := append([]byte(ref), 0)
		for k, v := c.Seek(TimeKey(ref, since, 0)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r T
			if json.Unmarshal(v, &r) == nil {
				out = append(out, r)
			}
		}
		return nil
	})
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, err
}

// Prune deletes events, health samples, commands and audit entries older
// than cutoff; it returns how many it deleted.
func (s *Store) Prune(cutoff time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range []Bucket{BucketEvents, BucketHealth} {
			c := tx.Bucket(name).Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				i := bytes.IndexByte(k, 0)
				if i < 0 || len(k) < i+9 || int64(binary.BigEndian.Uint64(k[i+1:])) < cutoff.UnixNano() {
					if err := c.Delete(); err != nil {
						return err
					}
					n++
				}
			}
		}
		c := tx.Bucket(BucketAudit).Cursor()
		for k, _ := c.First(); k != nil && len(k) >= 9 && int64(binary.BigEndian.Uint64(k[1:])) < cutoff.UnixNano(); k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		cc := tx.Bucket(BucketCommands).Cursor()
		for k, v := cc.First(); k != nil; k, v = cc.Next() {
			var r CommandRecord
			if json.Unmarshal(v, &r) == nil && r.Sent.Before(cutoff) {
				if err := cc.Delete(); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("prune history: %w", err)
	}
	return n, nil
}

// commandsFor returns the commands sent to kiosk ref, newest first.
func (s *Store) commandsFor(ref string, limit int) ([]CommandRecord, error) {
	var out []CommandRecord
	err := EachJSON(s, BucketCommands, nil, func(_ []byte, r CommandRecord) error {
		if ref == "" || r.Kiosk == ref {
			out = append(out, r)
		}
		return nil
	})
	sortCommands(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// audit returns the newest audit entries, newest first.
func (s *Store) audit(limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.Last(BucketAudit, func(_, v []byte) bool {
		var a AuditEntry
		if json.Unmarshal(v, &a) == nil {
			out = append(out, a)
		}
		return limit <= 0 || len(out) < limit
	})
	return out, err
}

func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
