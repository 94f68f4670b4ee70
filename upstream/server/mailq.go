package server

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// mailJob is one e-mail (or SMS) waiting in the durable mail queue, with
// its own schedule: a relay that defers one address delays only that
// message (issue 13: one 451 held every later e-mail for good).
type mailJob struct {
	Kind      string `json:"kind"` // confirm, resend, reset, email_change, sms (logged only)
	To        string `json:"to"`
	Reference string `json:"reference"`
	Code      string `json:"code"`
	// MessageID is the message's Message-ID, fixed when it is queued, so
	// a message sent twice (a crash after the relay took it, before the
	// queue forgot it) is recognisably one message.
	MessageID string    `json:"message_id"`
	Queued    time.Time `json:"queued"`
	Attempts  int       `json:"attempts,omitempty"`
	Due       time.Time `json:"due"`
}

// dueKey orders the schedule: due time, then queue sequence.
func dueKey(due time.Time, seq []byte) []byte {
	k := make([]byte, 8, 16)
	binary.BigEndian.PutUint64(k, uint64(max(due.UnixNano(), 0)))
	return append(k, seq...)
}

// queueMail adds a mail job, due now, in the same transaction as the
// change that causes it, so an answer and its e-mail commit together.
func (s *store) queueMail(tx *bolt.Tx, job mailJob, now time.Time, domain string) error {
	b := tx.Bucket(bucketMail)
	n, err := b.NextSequence()
	if err != nil {
		return err
	}
	seq := seqKey(n)
	job.MessageID = fmt.Sprintf("<%s.%d@%s>", randomHex(12), n, domain)
	job.Queued, job.Due = now, now
	if err := s.putSealed(tx, bucketMail, seq, job); err != nil {
		return err
	}
	return tx.Bucket(bucketMailDue).Put(dueKey(now, seq), nil)
}

func seqKey(n uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, n)
	return k
}

// nextMail returns the job that is due first (it may be due later than
// now), or ok false when the queue is empty.
func (s *store) nextMail() (seq []byte, job mailJob, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketMailDue).Cursor().First()
		if k == nil {
			return nil
		}
		seq, ok = bytes.Clone(k[8:]), true
		found, err := s.getSealed(tx, bucketMail, seq, &job)
		if err == nil && !found {
			err = fmt.Errorf("mail schedule names a missing job")
		}
		return err
	})
	return seq, job, ok, err
}

// rescheduleMail records an attempt: the job is due again at next. It is
// written before the attempt, so a crash during delivery retries later
// rather than at once, with the same Message-ID.
func (s *store) rescheduleMail(seq []byte, job mailJob, next time.Time) (mailJob, error) {
	old := dueKey(job.Due, seq)
	job.Attempts++
	job.Due = next
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMailDue).Delete(old); err != nil {
			return err
		}
		if err := s.putSealed(tx, bucketMail, seq, job); err != nil {
			return err
		}
		return tx.Bucket(bucketMailDue).Put(dueKey(next, seq), nil)
	})
	return job, err
}

// deleteMail forgets a job that was delivered or given up.
func (s *store) deleteMail(seq []byte, job mailJob) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMailDue).Delete(dueKey(job.Due, seq)); err != nil {
			return err
		}
		return tx.Bucket(bucketMail).Delete(seq)
	})
}

// dropMailSchedule removes a job from the schedule whose body cannot be
// read (sealed with another key): it is kept for an operator but never
// blocks the queue.
func (s *store) dropMailSchedule(seq []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketMailDue).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if bytes.Equal(k[8:], seq) {
				return c.Delete()
			}
		}
		return nil
	})
}
