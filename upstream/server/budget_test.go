package server

import (
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
	bolt "go.etcd.io/bbolt"

	"github.com/nhikiosk/nhikiosk/upstream"
)

func TestBudget(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	type step struct {
		at     time.Duration // since t0
		locked bool          // spend's answer
		until  time.Duration // lock end since t0, if timed
	}
	for _, tt := range []struct {
		name  string
		b     Budget
		steps []step
	}{
		{"escalating lock", Budget{Max: 2, Lock: time.Minute, MaxLock: 3 * time.Minute}, []step{
			{0, false, 0}, {1, true, time.Minute + 1},
			{2 * time.Minute, false, 0}, {2*time.Minute + 1, true, 4*time.Minute + 1},
			{5 * time.Minute, false, 0}, {5*time.Minute + 1, true, 8*time.Minute + 1}, // capped at 3 min
		}},
		{"window", Budget{Max: 3, Per: time.Hour}, []step{
			{0, false, 0}, {time.Minute, false, 0}, {2 * time.Minute, true, time.Hour},
			{30 * time.Minute, true, time.Hour}, // locked: not counted
			{time.Hour, false, 0},               // a new window
		}},
		{"until reset", Budget{Max: 2}, []step{
			{0, false, 0}, {time.Hour, true, 0}, {48 * time.Hour, true, 0},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var sp spent
			for i, s := range tt.steps {
				now := t0.Add(s.at)
				if got := tt.b.spend(&sp, now); got != s.locked {
					t.Fatalf("step %d: spend = %v, want %v (%+v)", i, got, s.locked, sp)
				}
				l, until := tt.b.locked(sp, now)
				if l != s.locked || s.locked && s.until != 0 && !until.Equal(t0.Add(s.until)) {
					t.Fatalf("step %d: locked = %v until %v, want %v until %v", i, l, until, s.locked, t0.Add(s.until))
				}
			}
		})
	}
}

// TestMigrateToOneAccountPerID: a schema 1 database (people keyed by
// card and ID number) is re-keyed by ID number on open; where it held
// two records for one ID, the active one stays.
func TestMigrateToOneAccountPerID(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	path := filepath.Join(t.TempDir(), "nhisim.db")
	st, err := openStore(path, []byte(id.String()))
	if err != nil {
		t.Fatal(err)
	}
	old := func(card, idn, status string) record {
		return record{ID: card, Status: status, Reg: upstream.Registration{CardNumber: card, IDNumber: idn}}
	}
	recs := []record{old("900000000001", "A100000001", upstream.StatusActive), old("900000000002", "A100000001", upstream.StatusPendingEmail),
		old("900000000003", "A100000002", upstream.StatusPendingEmail)}
	err = st.db.Update(func(tx *bolt.Tx) error {
		for _, r := range recs {
			b, _ := st.seal(r)
			if err := tx.Bucket(bucketPeople).Put(st.mac("person", r.Reg.CardNumber+"|"+r.Reg.IDNumber), b); err != nil {
				return err
			}
		}
		// A schema 1 mail job: no Message-ID, no place in the schedule.
		if err := st.putSealed(tx, bucketMail, seqKey(1), mailJob{Kind: "confirm", To: "x@example.com"}); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Delete([]byte("schema"))
	})
	if err != nil {
		t.Fatal(err)
	}
	st.close()
	if st, err = openStore(path, []byte(id.String())); err != nil {
		t.Fatal(err)
	}
	defer st.close()
	c, err := st.counts()
	if err != nil || c.People != 2 || c.Active != 1 || c.QueuedMail != 1 {
		t.Fatalf("after the migration: %+v, %v; want 2 people, 1 active, the mail kept", c, err)
	}
	st.db.View(func(tx *bolt.Tx) error {
		r, ok, err := st.getPerson(tx, "A100000001")
		if !ok || err != nil || r.Reg.CardNumber != "900000000001" {
			t.Errorf("A100000001 = %+v %v %v, want the active record", r.Reg, ok, err)
		}
		return nil
	})
	if _, job, ok, err := st.nextMail(); !ok || err != nil || job.MessageID == "" {
		t.Errorf("queued mail after the migration = %+v %v %v, want it scheduled with a Message-ID", job, ok, err)
	}
}
