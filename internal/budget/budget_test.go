package budget

import (
	"fmt"
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	b := New(3, time.Minute, 100).WithClock(func() time.Time { return now })
	for i := range 3 {
		if ok, _ := b.Allow("1.2.3.4"); !ok {
			t.Fatalf("attempt %d refused, want allowed", i+1)
		}
		b.Fail("1.2.3.4")
	}
	ok, wait := b.Allow("1.2.3.4")
	if ok || wait != time.Minute {
		t.Errorf("after 3 failures Allow = %v, %v; want refused for 1m", ok, wait)
	}
	if ok, _ := b.Allow("5.6.7.8"); !ok {
		t.Error("another key refused")
	}
	now = now.Add(time.Minute)
	if ok, _ := b.Allow("1.2.3.4"); !ok {
		t.Error("still refused after the window")
	}
	b.Fail("1.2.3.4")
	b.Succeed("1.2.3.4")
	for range 3 {
		b.Fail("1.2.3.4")
	}
	if ok, _ := b.Allow("1.2.3.4"); ok {
		t.Error("allowed after 3 failures following a success")
	}
}

func TestBudgetBoundsKeys(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	b := New(1, time.Hour, 10).WithClock(func() time.Time { return now })
	for i := range 1000 {
		now = now.Add(time.Millisecond)
		b.Fail(fmt.Sprint(i))
	}
	if n := len(b.m); n > 10 {
		t.Errorf("budget remembers %d keys, want at most 10", n)
	}
	if ok, _ := b.Allow("999"); ok {
		t.Error("the newest key's failure was forgotten")
	}
}
