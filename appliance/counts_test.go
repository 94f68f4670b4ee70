package appliance

import (
	"testing"
	"time"
)

// TestCountsByDay counts a finished session, an abandoned one and one
// timed out, and starts afresh at local midnight.
func TestCountsByDay(t *testing.T) {
	now := time.Date(2026, 11, 27, 23, 0, 0, 0, time.Local)
	m := NewMachine(Options{Now: func() time.Time { return now }})
	m.countsToday(now).Started += 3
	m.sess = newSession("s1", now)
	m.endSession("finished")
	m.sess = newSession("s2", now)
	m.endSession("card_removed")
	m.sess = newSession("s3", now)
	m.sess.completed = true
	m.endSession("card_removed")
	c := m.Counts()
	if c.Started != 3 || c.Completed != 2 || c.Aborted["card_removed"] != 1 || len(c.Aborted) != 1 {
		t.Fatalf("counts = %+v, want 3 started, 2 completed, 1 card_removed", c)
	}
	now = now.Add(2 * time.Hour)
	if c := m.Counts(); c.Started != 0 || c.Completed != 0 || len(c.Aborted) != 0 {
		t.Fatalf("counts the next day = %+v, want zeros", c)
	}
}
