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

// Buckets of the history database.
var (
	bKiosks   = []byte("kiosks")   // site/kiosk → last known Kiosk (for a restart)
	bEvents   = []byte("events")   // site/kiosk \x00 ts → Event record
	bHealth   = []byte("health")   // site/kiosk \x00 ts → HealthSample
	bCommands = []byte("commands") // id → CommandRecord
	bAudit    = []byte("audit")    // ts \x00 id → AuditEntry
	bUsers    = []byte("users")    // name → User
	bMeta     = []byte("meta")     // secrets and settings
)

// Store is fleetd's embedded history database (bbolt). Writes from the
// message path are batched by the caller (Batch) so thousands of kiosks
// cost a few transactions a second.
type Store struct {
	db *bolt.DB
}

// OpenStore opens (creating) the database file.
func OpenStore(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open history database %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bKiosks, bEvents, bHealth, bCommands, bAudit, bUsers, bMeta} {
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

// put is one pending write.
type put struct {
	bucket []byte
	key    []byte
	val    any
}

// Batch writes many records in one transaction.
func (s *Store) Batch(ps []put) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, p := range ps {
			b, err := json.Marshal(p.val)
			if err != nil {
				return fmt.Errorf("encode %s: %w", p.bucket, err)
			}
			if err := tx.Bucket(p.bucket).Put(p.key, b); err != nil {
				return fmt.Errorf("put %s: %w", p.bucket, err)
			}
		}
		return nil
	})
}

func (s *Store) putOne(bucket, key []byte, v any) error { return s.Batch([]put{{bucket, key, v}}) }

func (s *Store) get(bucket, key []byte, v any) (bool, error) {
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket).Get(key)
		if b == nil {
			return nil
		}
		found = true
		return json.Unmarshal(b, v)
	})
	return found, err
}

// timeKey is prefix \x00 big-endian nanoseconds \x00 seq, so keys sort by time.
func timeKey(prefix string, t time.Time, seq uint64) []byte {
	k := make([]byte, 0, len(prefix)+17)
	k = append(k, prefix...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, uint64(t.UnixNano()))
	return binary.BigEndian.AppendUint64(k, seq)
}

// scanKiosk calls f for records of kiosk ref in bucket newer than since,
// newest last; at most limit (0 = all) of the newest.
func scanKiosk[T any](s *Store, bucket []byte, ref string, since time.Time, limit int) ([]T, error) {
	var out []T
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		prefix := append([]byte(ref), 0)
		start := timeKey(ref, since, 0)
		for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r T
			if err := json.Unmarshal(v, &r); err != nil {
				continue
			}
			out = append(out, r)
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
		for _, name := range [][]byte{bEvents, bHealth} {
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
		c := tx.Bucket(bAudit).Cursor()
		for k, _ := c.First(); k != nil && len(k) >= 9 && int64(binary.BigEndian.Uint64(k[1:])) < cutoff.UnixNano(); k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		cc := tx.Bucket(bCommands).Cursor()
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
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bCommands).ForEach(func(_, v []byte) error {
			var r CommandRecord
			if json.Unmarshal(v, &r) == nil && (ref == "" || r.Kiosk == ref) {
				out = append(out, r)
			}
			return nil
		})
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
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bAudit).Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var a AuditEntry
			if json.Unmarshal(v, &a) == nil {
				out = append(out, a)
			}
		}
		return nil
	})
	return out, err
}

type boltTx = bolt.Tx

func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
