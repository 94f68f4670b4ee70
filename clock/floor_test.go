package clock_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/clock"
)

// savedFloor reads the floor a Keeper saved in its state file.
func savedFloor(t *testing.T, file string) time.Time {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Saved time.Time `json:"saved"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s.Saved
}

// offBy fails the test if the rig's clock is further than d from the
// right time.
func offBy(t *testing.T, r *rig, d time.Duration, when string) {
	t.Helper()
	if off := r.sys.Now().Sub(r.world.Now()); off > d || off < -d {
		t.Fatalf("%s: clock %v off the right time, want at most ±%v", when, off, d)
	}
}

// TestNTPCreep is the attack of the review of issue 21: the upstream
// answers the right time, then cannot be reached, and a forged NTP
// server answers the kiosk's own clock plus 59 s every round, each step
// within the minute NTP may move a clock. The steps must not add up:
// NTP is held to the upstream's last time plus the monotonic time since,
// not to a clock it moved itself; the floor is never raised from that
// clock; and the upstream's right time is taken again afterwards, and
// after a reboot.
func TestNTPCreep(t *testing.T) {
	for _, tt := range []struct {
		name          string
		every, during time.Duration
		vouched       bool // the upstream answered twice before it went away
	}{
		{"hourly for a week", time.Hour, 7 * 24 * time.Hour, false},
		{"hourly for a week, the upstream vouched first", time.Hour, 7 * 24 * time.Hour, true},
		{"every minute for a day", time.Minute, 24 * time.Hour, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "clock.json")
			r := newRig(t, epoch, clock.Options{StateFile: file, SyncEvery: tt.every})
			r.up.Follow(r.world, 0)
			r.sync(t)
			if tt.vouched {
				r.sys.Advance(tt.every)
				if st := r.sync(t); !st.Vouched {
					t.Fatalf("after two answers that agree, status = %+v, want vouched", st)
				}
			}
			r.save()
			floor0 := r.k.Floor()

			r.up.Fail(errors.New("connection refused"))
			r.ntp.Follow(r.sys, 59*time.Second)
			for i := time.Duration(0); i < tt.during; i += tt.every {
				r.sys.Advance(tt.every)
				r.sync(t)
				// The window is around the upstream's time, widened by
				// the crystal's drift since (at most MaxDrift).
				offBy(t, r, clock.MaxDisagreement+clock.MaxDrift, "after "+(i+tt.every).String())
				if (i+tt.every)%(6*time.Hour) == 0 {
					r.save() // as Run does every SaveEvery (fewer here: each is an fsync)
				}
			}
			r.save()
			if got, right := r.k.Floor(), r.world.Now(); got.After(right) {
				t.Fatalf("floor %v after a forged NTP server moved the clock, later than the right time %v", got, right)
			}
			if got := savedFloor(t, file); got.After(r.world.Now()) {
				t.Fatalf("clock.json saved %v, later than the right time %v", got, r.world.Now())
			}
			if !tt.vouched && !r.k.Floor().Equal(floor0) {
				t.Errorf("floor moved from %v to %v without the upstream vouching", floor0, r.k.Floor())
			}
			if !strings.Contains(r.log.String(), clock.ErrDisagrees.Error()) {
				t.Errorf("log does not refuse the forged steps:\n%s", r.log)
			}

			// The upstream is back: its right time is taken.
			r.ntp.Fail(errors.New("i/o timeout"))
			r.up.Follow(r.world, 0)
			wantStatus(t, r.sync(t), true, clock.KindUpstream)
			offBy(t, r, 0, "upstream back")

			// After a reboot, the right time is taken at once.
			next := newRig(t, epoch, clock.Options{StateFile: file, BootID: func() string { return "boot-2" }})
			next.world.at = r.world.Now()
			next.up.Follow(next.world, 0)
			wantStatus(t, next.sync(t), true, clock.KindUpstream)
		})
	}
}

// TestFloorNotFromMovedClock: with the upstream vouching, NTP moves the
// clock 50 s ahead (within what it may); the floor saved afterwards is
// the upstream's time plus the monotonic time since, not that clock.
func TestFloorNotFromMovedClock(t *testing.T) {
	file := filepath.Join(t.TempDir(), "clock.json")
	r := newRig(t, epoch, clock.Options{StateFile: file})
	r.up.Follow(r.world, 0)
	r.sync(t)
	r.sys.Advance(time.Minute)
	r.sync(t)
	r.up.Fail(errors.New("i/o timeout"))
	r.ntp.Follow(r.world, 50*time.Second)
	r.sys.Advance(time.Minute)
	wantStatus(t, r.sync(t), true, clock.KindNTP)
	offBy(t, r, 50*time.Second, "NTP within a minute")
	r.save()
	if got, right := savedFloor(t, file), r.world.Now(); got.After(right) || got.Before(right.Add(-time.Second)) {
		t.Errorf("clock.json saved %v, want the right time %v (less drift), not the clock %v", got, right, r.sys.Now())
	}
}

// TestUpstreamGlitch: the upstream answers a time two years ahead once,
// then the right one. The clock follows it (the upstream wins), but one
// answer does not raise the floor, so its right time is taken back.
func TestUpstreamGlitch(t *testing.T) {
	file := filepath.Join(t.TempDir(), "clock.json")
	r := newRig(t, epoch, clock.Options{StateFile: file})
	r.up.Follow(r.world, 0)
	r.sync(t)
	r.sys.Advance(2 * time.Second)
	r.sync(t)
	r.save()
	r.up.Follow(r.world, 2*365*24*time.Hour)
	r.sys.Advance(time.Hour)
	if st := r.sync(t); st.Vouched {
		t.Errorf("status %+v after an answer two years off the last, want not vouched", st)
	}
	r.save() // as Run does every SaveEvery
	if got := savedFloor(t, file); got.After(r.world.Now()) {
		t.Fatalf("one answer two years ahead raised the saved floor to %v", got)
	}
	r.up.Follow(r.world, 0)
	r.sys.Advance(2 * time.Second)
	wantStatus(t, r.sync(t), true, clock.KindUpstream)
	offBy(t, r, 0, "the upstream's right time again")
}

// TestFloorProbation: a floor two years ahead (a clock.json restored from
// a kiosk whose clock was wrong, or an upstream that was wrong for a
// while) locks the kiosk out only for FloorProbation: the upstream's
// right time, following the monotonic clock with NTP agreeing, is taken
// then, and the floor saved again. An upstream whose answers do not
// follow the monotonic clock, a source that disagrees, or a time before
// the image's build time do not lower it.
func TestFloorProbation(t *testing.T) {
	ahead := world.Add(2 * 365 * 24 * time.Hour)
	for _, tt := range []struct {
		name   string
		script func(r *rig, round int)
		lowers bool
	}{
		{"upstream and NTP agree", func(r *rig, _ int) {
			r.up.Follow(r.world, 0)
			r.ntp.Follow(r.world, 10*time.Millisecond)
		}, true},
		{"upstream alone", func(r *rig, _ int) {
			r.up.Follow(r.world, 0)
			r.ntp.Fail(errors.New("i/o timeout"))
		}, true},
		{"upstream standing still", func(r *rig, _ int) { r.up.Answer(world) }, false},
		{"NTP disagrees now and then", func(r *rig, round int) {
			r.up.Follow(r.world, 0)
			r.ntp.Follow(r.world, 0)
			if round%100 == 99 {
				r.ntp.Follow(r.world, -time.Hour)
			}
		}, false},
		{"before the build", func(r *rig, _ int) { r.up.Answer(built.Add(-time.Hour)) }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "clock.json")
			b, _ := json.Marshal(map[string]time.Time{"saved": ahead})
			if err := os.WriteFile(file, b, 0o600); err != nil {
				t.Fatal(err)
			}
			r := newRig(t, epoch, clock.Options{StateFile: file})
			const every = 5 * time.Minute
			rounds := int(clock.FloorProbation/every) + 2
			for i := range rounds {
				tt.script(r, i)
				st := r.sync(t)
				if st.Known {
					if !tt.lowers || time.Duration(i)*every < clock.FloorProbation {
						t.Fatalf("round %d: time known (%+v) with the floor %v", i, st, ahead)
					}
					break
				}
				if i == 0 && tt.name == "upstream alone" {
					if st.FloorAhead < ahead.Sub(world)-time.Second {
						t.Errorf("status says the floor is %v ahead, want %v", st.FloorAhead, ahead.Sub(world))
					}
				}
				r.sys.Advance(every)
			}
			st := r.k.Status()
			if !tt.lowers {
				wantStatus(t, st, false, "")
				if !r.k.Floor().Equal(ahead) || !savedFloor(t, file).Equal(ahead) {
					t.Errorf("floor %v (saved %v), want still %v", r.k.Floor(), savedFloor(t, file), ahead)
				}
				return
			}
			wantStatus(t, st, true, clock.KindUpstream)
			offBy(t, r, 0, "after the probation")
			if st.FloorAhead != 0 {
				t.Errorf("status says the floor is %v ahead after it was lowered", st.FloorAhead)
			}
			if got := savedFloor(t, file); !got.Before(r.world.Now()) || got.Before(r.world.Now().Add(-2*time.Minute)) {
				t.Errorf("clock.json saved %v after the probation, want just before %v", got, r.world.Now())
			}
			if n := strings.Count(r.log.String(), clock.ErrTooEarly.Error()); n > 2 {
				t.Errorf("the same refusal logged %d times over %d rounds, want once a source", n, rounds)
			}
			for _, want := range []string{"the floor is ahead of the upstream's time", "floor lowered"} {
				if !strings.Contains(r.log.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, r.log)
				}
			}
		})
	}
}

// TestSourceThatSetTheClock: Status names the source that set the clock,
// not the last one that merely agreed with it.
func TestSourceThatSetTheClock(t *testing.T) {
	r := newRig(t, epoch, clock.Options{})
	r.up.Follow(r.world, 0)
	r.ntp.Fail(errors.New("i/o timeout"))
	wantStatus(t, r.sync(t), true, clock.KindUpstream)
	r.sys.Advance(time.Minute)
	r.ntp.Follow(r.world, 10*time.Millisecond)
	r.up.Fail(errors.New("i/o timeout"))
	st := r.sync(t)
	wantStatus(t, st, true, clock.KindUpstream)
	if st.From != "reg.nhi.example" || !st.LastSync.Equal(r.world.Now().Add(10*time.Millisecond)) {
		t.Errorf("status %+v, want from the upstream, last confirmed by NTP at %v", st, r.world.Now())
	}
	r.ntp.Follow(r.world, 5*time.Second)
	wantStatus(t, r.sync(t), true, clock.KindNTP)
}

// TestRunAsksUpstreamUntilItVouches: a forged NTP answer five years ahead
// sets the clock of a kiosk whose upstream is briefly unreachable; Run
// asks the upstream again on its short backoff (not after SyncEvery, an
// hour) and NTP only every SyncEvery, until the upstream has vouched.
func TestRunAsksUpstreamUntilItVouches(t *testing.T) {
	r := newRig(t, epoch, clock.Options{Retry: time.Millisecond, SyncEvery: time.Hour})
	r.ntp.Answer(world.Add(5 * 365 * 24 * time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.k.Run(ctx) }()
	waitFor(t, "the upstream asked 4 times", func() bool { return r.up.Calls() >= 4 })
	wantStatus(t, r.k.Status(), true, clock.KindNTP)
	if n := r.ntp.Calls(); n != 1 {
		t.Errorf("NTP asked %d times within the hour, want once", n)
	}
	r.up.Answer(world)
	waitFor(t, "the upstream vouches", func() bool { return r.k.Status().Vouched })
	wantStatus(t, r.k.Status(), true, clock.KindUpstream)
	n := r.up.Calls()
	time.Sleep(50 * time.Millisecond) // a few of the short retries
	if got := r.up.Calls(); got != n {
		t.Errorf("upstream asked %d more times after it vouched, want none until SyncEvery", got-n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
