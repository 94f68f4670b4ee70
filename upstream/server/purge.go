package server

import (
	"bytes"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/nhikiosk/nhikiosk/upstream"
)

// Retention of what nhisim keeps only for a while.
const (
	// purgeAfter is how long an ended session or binding stays: long
	// enough for a late poll or phone to get "expired" rather than
	// "unknown".
	purgeAfter = 24 * time.Hour
	// budgetRetention is how long an attempt budget nobody touched
	// stays; a lock still running, and a login lock of an existing
	// account, stay longer.
	budgetRetention = 30 * 24 * time.Hour
)

// Purged counts what one purge removed.
type Purged struct {
	Sessions, Bindings, Answers, Budgets int
}

// Total is the number of entries removed.
func (p Purged) Total() int { return p.Sessions + p.Bindings + p.Answers + p.Budgets }

// purge deletes sessions and bindings that ended before now-purgeAfter,
// answers stored for Idempotency-Keys before now-IdemRetention, and
// attempt budgets idle for budgetRetention.
func (s *store) purge(now time.Time) (Purged, error) {
	var p Purged
	err := s.db.Update(func(tx *bolt.Tx) error {
		cut := now.Add(-purgeAfter)
		var err error
		if p.Sessions, err = s.purgeBucket(tx, bucketSess, func(v []byte) bool {
			var r sessionRec
			return s.open(v, &r) != nil || r.Expires.Before(cut)
		}); err != nil {
			return err
		}
		var codes [][]byte
		if p.Bindings, err = s.purgeBucket(tx, bucketBind, func(v []byte) bool {
			var b bindingRec
			dead := s.open(v, &b) != nil || b.Expires.Before(cut)
			if dead && b.CodeKey != nil {
				codes = append(codes, b.CodeKey)
			}
			return dead
		}); err != nil {
			return err
		}
		for _, k := range codes {
			if err := tx.Bucket(bucketCodes).Delete(k); err != nil {
				return err
			}
		}
		idemCut := now.Add(-upstream.IdemRetention)
		if p.Answers, err = s.purgeBucket(tx, bucketIdem, func(v []byte) bool {
			var a storedAnswer
			return s.open(v, &a) != nil || a.At.Before(idemCut)
		}); err != nil {
			return err
		}
		p.Budgets, err = s.purgeBudgets(tx, now)
		return err
	})
	return p, err
}

// purgeBucket deletes the entries of bucket whose value dead says so.
func (s *store) purgeBucket(tx *bolt.Tx, bucket []byte, dead func(v []byte) bool) (int, error) {
	return s.purgeBucketKV(tx, bucket, func(_, v []byte) bool { return dead(v) })
}

func (s *store) purgeBudgets(tx *bolt.Tx, now time.Time) (int, error) {
	cut := now.Add(-budgetRetention)
	people := tx.Bucket(bucketPeople)
	return s.purgeBucketKV(tx, bucketBudgets, func(k, v []byte) bool {
		var sp spent
		if json.Unmarshal(v, &sp) != nil {
			return true
		}
		if sp.Last.After(cut) || sp.Until.After(now) {
			return false
		}
		if sp.Held {
			// A login lock: kept while its account exists.
			_, subject, _ := bytes.Cut(k, []byte{0})
			return people.Get(subject) == nil
		}
		return true
	})
}

func (s *store) purgeBucketKV(tx *bolt.Tx, bucket []byte, dead func(k, v []byte) bool) (int, error) {
	var keys [][]byte
	err := tx.Bucket(bucket).ForEach(func(k, v []byte) error {
		if dead(k, v) {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	for _, k := range keys {
		if err == nil {
			err = tx.Bucket(bucket).Delete(k)
		}
	}
	return len(keys), err
}

// purgeHourly purges at most once an hour (Run calls it when the mail
// queue has nothing due).
func (s *Server) purgeHourly() {
	now := s.o.Now()
	if now.Sub(s.lastPurge) < time.Hour {
		return
	}
	s.lastPurge = now
	if p, err := s.st.purge(now); err != nil {
		s.o.Logger.Warn("purge failed", "err", err)
	} else if p.Total() > 0 {
		s.o.Logger.Info("purged", "sessions", p.Sessions, "bindings", p.Bindings, "answers", p.Answers, "budgets", p.Budgets)
	}
}

// Purge does now what Run does hourly: it drops sessions and bindings
// that ended more than a day ago, answers kept for Idempotency-Keys
// longer than upstream.IdemRetention, and attempt budgets idle for 30
// days.
func (s *Server) Purge() (Purged, error) { return s.st.purge(s.o.Now()) }
