package clock_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/clock"
	"github.com/nhikiosk/nhikiosk/clock/clocktest"
)

var (
	// epoch is where a Raspberry Pi's clock starts.
	epoch = time.Unix(0, 0).UTC()
	// built is the image's build time in these tests, and world the
	// right time, a few weeks later.
	built = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	world = time.Date(2026, 12, 14, 9, 30, 0, 0, time.UTC)
)

// rig is a Keeper on fakes: a Pi's clock, an NTP server and the upstream
// that do not answer until told, and the Keeper's log.
type rig struct {
	sys      *clocktest.System
	world    truth
	ntp, up  *clocktest.Source
	k        *clock.Keeper
	log      *strings.Builder
	statuses []clock.Status
}

func newRig(t *testing.T, at time.Time, o clock.Options) *rig {
	t.Helper()
	r := &rig{sys: clocktest.NewSystem(at), ntp: clocktest.NewSource(clock.KindNTP, "ntp.hospital.example"),
		up: clocktest.NewSource(clock.KindUpstream, "reg.nhi.example"), log: &strings.Builder{}}
	o.System, o.Monotonic, o.Floor = r.sys, r.sys.Mono, built
	o.Sources = []clock.Source{r.ntp, r.up}
	o.Log = slog.New(slog.NewTextHandler(r.log, nil))
	o.OnChange = func(s clock.Status) { r.statuses = append(r.statuses, s) }
	if o.BootID == nil {
		o.BootID = func() string { return "boot-1" }
	}
	r.world = truth{sys: r.sys, mono0: r.sys.Mono(), at: world}
	r.k = clock.New(o)
	return r
}

// truth is the right time in a rig: world when the rig was made, moving
// on with the monotonic clock (which the fakes keep exact).
type truth struct {
	sys   *clocktest.System
	mono0 time.Time
	at    time.Time
}

func (w truth) Now() time.Time { return w.at.Add(w.sys.Mono().Sub(w.mono0)) }

// save makes the Keeper save its state, as it does when Run ends.
func (r *rig) save() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.k.Run(ctx)
}

func (r *rig) sync(t *testing.T) clock.Status {
	t.Helper()
	return r.k.Sync(context.Background())
}

func wantStatus(t *testing.T, got clock.Status, known bool, src clock.Kind) {
	t.Helper()
	if got.Known != known || got.Source != src {
		t.Fatalf("status = %+v, want known %v from %q", got, known, src)
	}
}

func wantClock(t *testing.T, sys *clocktest.System, want time.Time) {
	t.Helper()
	if got := sys.Now(); !got.Equal(want) {
		t.Fatalf("system clock = %v, want %v", got, want)
	}
}

// TestWaitThenUpstream: a Pi booted in 1970 with no RTC, NTP blocked and
// the upstream not answering waits; when the upstream answers, its time
// sets the clock.
func TestWaitThenUpstream(t *testing.T) {
	r := newRig(t, epoch, clock.Options{})
	wantStatus(t, r.k.Status(), false, "")
	r.ntp.Fail(errors.New("i/o timeout"))
	for range 3 {
		r.sys.Advance(5 * time.Second)
		wantStatus(t, r.sync(t), false, "")
	}
	if len(r.sys.Sets()) != 0 {
		t.Fatalf("clock set while no source answered: %v", r.sys.Sets())
	}
	r.up.Follow(constant(world), 0)
	st := r.sync(t)
	wantStatus(t, st, true, clock.KindUpstream)
	wantClock(t, r.sys, world)
	if st.From != "reg.nhi.example" || !st.LastSync.Equal(world) || st.Waited != 15*time.Second {
		t.Errorf("status = %+v, want from reg.nhi.example, last sync %v, waited 15s", st, world)
	}
	if len(r.statuses) != 1 || !r.statuses[0].Known {
		t.Errorf("OnChange saw %+v, want one known status", r.statuses)
	}
	for _, f := range r.up.Floors() {
		if !f.Equal(built) {
			t.Errorf("upstream asked with floor %v, want the build time %v", f, built)
		}
	}
	if !strings.Contains(r.log.String(), "waiting for the correct time") || !strings.Contains(r.log.String(), "i/o timeout") {
		t.Errorf("log lacks the wait or NTP's error:\n%s", r.log)
	}
}

type constant time.Time

func (c constant) Now() time.Time { return time.Time(c) }

// TestRefused: a time far in the past (before the image was built) or far
// in the future is refused from every source, and the kiosk keeps waiting.
func TestRefused(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want error
	}{
		{"year 2000", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), clock.ErrTooEarly},
		{"a day before the build", built.Add(-24 * time.Hour), clock.ErrTooEarly},
		{"far future", built.Add(clock.MaxAhead + time.Hour), clock.ErrTooLate},
		{"year 2200", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), clock.ErrTooLate},
	}
	for _, tt := range tests {
		for _, kind := range []clock.Kind{clock.KindNTP, clock.KindUpstream} {
			t.Run(tt.name+"/"+string(kind), func(t *testing.T) {
				r := newRig(t, epoch, clock.Options{})
				src := map[clock.Kind]*clocktest.Source{clock.KindNTP: r.ntp, clock.KindUpstream: r.up}[kind]
				src.Answer(tt.at)
				wantStatus(t, r.sync(t), false, "")
				if len(r.sys.Sets()) != 0 {
					t.Errorf("clock set to %v", r.sys.Sets())
				}
				if !strings.Contains(r.log.String(), tt.want.Error()) {
					t.Errorf("log does not say %q:\n%s", tt.want, r.log)
				}
			})
		}
	}
	// The edges themselves are believed.
	for _, at := range []time.Time{built, built.Add(clock.MaxAhead)} {
		r := newRig(t, epoch, clock.Options{})
		r.up.Answer(at)
		wantStatus(t, r.sync(t), true, clock.KindUpstream)
	}
}

// TestUpstreamWins: NTP answers first with a forged time two hours ahead
// and sets the clock; the upstream's time then wins, and from then on
// NTP may only correct the clock by up to MaxDisagreement.
func TestUpstreamWins(t *testing.T) {
	r := newRig(t, epoch, clock.Options{})
	r.ntp.Answer(world.Add(2 * time.Hour))
	wantStatus(t, r.sync(t), true, clock.KindNTP)
	wantClock(t, r.sys, world.Add(2*time.Hour))

	r.up.Answer(world)
	wantStatus(t, r.sync(t), true, clock.KindUpstream)
	wantClock(t, r.sys, world)

	r.up.Fail(errors.New("connection refused"))
	r.sync(t) // NTP still two hours off: refused
	wantClock(t, r.sys, world)
	if !strings.Contains(r.log.String(), clock.ErrDisagrees.Error()) {
		t.Errorf("log does not say NTP disagrees:\n%s", r.log)
	}
	r.ntp.Answer(world.Add(20 * time.Second)) // within MaxDisagreement
	wantStatus(t, r.sync(t), true, clock.KindNTP)
	wantClock(t, r.sys, world.Add(20*time.Second))
}

// TestRTC: a fitted RTC holding a believable time sets the clock at start
// (no wait); the upstream's time later is written back to it. A stopped
// or far-off RTC is not used, and is written once a source answers.
func TestRTC(t *testing.T) {
	t.Run("read at start, written after sync", func(t *testing.T) {
		rtc := clocktest.NewRTC(world.Add(-3*time.Second), nil) // drifted 3 s
		r := newRig(t, epoch, clock.Options{RTC: rtc})
		wantStatus(t, r.k.Status(), true, clock.KindRTC)
		wantClock(t, r.sys, world.Add(-3*time.Second))
		if st := r.k.Status(); st.Waited != 0 {
			t.Errorf("waited %v with an RTC", st.Waited)
		}
		r.up.Answer(world)
		wantStatus(t, r.sync(t), true, clock.KindUpstream)
		wantClock(t, r.sys, world)
		if w := rtc.Writes(); len(w) != 1 || !w[0].Equal(world) {
			t.Errorf("RTC writes %v, want [%v]", w, world)
		}
	})
	for name, rtc := range map[string]*clocktest.RTC{
		"stopped":  clocktest.NewRTC(time.Time{}, errors.New("ds3231: oscillator stopped")),
		"far past": clocktest.NewRTC(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), nil),
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, epoch, clock.Options{RTC: rtc})
			wantStatus(t, r.k.Status(), false, "")
			r.ntp.Answer(world)
			wantStatus(t, r.sync(t), true, clock.KindNTP)
			if w := rtc.Writes(); len(w) != 1 || !w[0].Equal(world) {
				t.Errorf("RTC writes %v, want [%v]", w, world)
			}
		})
	}
}

// TestSystemAtStart: a system clock found within the bounds (a PC's
// battery-backed clock) is believed at once; one before the build is not.
func TestSystemAtStart(t *testing.T) {
	r := newRig(t, world, clock.Options{})
	wantStatus(t, r.k.Status(), true, clock.KindSystem)
	r = newRig(t, built.Add(-time.Hour), clock.Options{})
	wantStatus(t, r.k.Status(), false, "")
}

// TestSavedFloor: the time saved by a run the upstream vouched for is the
// next run's floor; NTP alone never raises it.
func TestSavedFloor(t *testing.T) {
	file := filepath.Join(t.TempDir(), "clock.json")
	r := newRig(t, epoch, clock.Options{StateFile: file})
	r.up.Follow(r.world, 0)
	r.sync(t)
	r.sys.Advance(2 * time.Second)
	r.sync(t) // a second answer that agrees: the upstream vouches
	r.sys.Advance(time.Hour)
	r.save()
	// The upstream's last time plus the monotonic time since, less what a
	// crystal may have drifted in that hour (100 ppm: 0.36 s).
	want := world.Add(time.Hour + 2*time.Second - 360*time.Millisecond)
	if got := r.k.Floor(); !got.Equal(want) {
		t.Fatalf("floor after saving = %v, want %v", got, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	// Next boot: the Pi is back in 1970, and an NTP answer from before
	// the saved time (a replay, or a forged server) is refused.
	next := newRig(t, epoch, clock.Options{StateFile: file, BootID: func() string { return "boot-2" }})
	wantStatus(t, next.k.Status(), false, "")
	next.ntp.Answer(world.Add(30 * time.Minute))
	wantStatus(t, next.sync(t), false, "")
	if !strings.Contains(next.log.String(), clock.ErrTooEarly.Error()) {
		t.Errorf("log does not refuse the early time:\n%s", next.log)
	}
	// NTP sets the clock, but without the upstream the floor stays.
	next.ntp.Answer(world.Add(5 * time.Hour))
	wantStatus(t, next.sync(t), true, clock.KindNTP)
	next.k.Run(ctx)
	if got := next.k.Floor(); !got.Equal(want) {
		t.Errorf("floor after an NTP-only run = %v, want still %v", got, want)
	}
}

// TestRestartSameBoot: a kiosk restarted in the boot whose clock it set
// keeps saying where the time came from; after a reboot it does not.
func TestRestartSameBoot(t *testing.T) {
	file := filepath.Join(t.TempDir(), "clock.json")
	r := newRig(t, epoch, clock.Options{StateFile: file})
	r.up.Answer(world)
	r.sync(t)
	again := newRig(t, world.Add(time.Minute), clock.Options{StateFile: file})
	st := again.k.Status()
	wantStatus(t, st, true, clock.KindUpstream)
	if !st.LastSync.Equal(world) || st.From != "reg.nhi.example" {
		t.Errorf("restored status %+v", st)
	}
	rebooted := newRig(t, world.Add(time.Minute), clock.Options{StateFile: file, BootID: func() string { return "boot-2" }})
	wantStatus(t, rebooted.k.Status(), true, clock.KindSystem)
}

// TestSetRefused: without CAP_SYS_TIME the clock cannot be set; the
// kiosk keeps waiting and says why.
func TestSetRefused(t *testing.T) {
	r := newRig(t, epoch, clock.Options{})
	r.sys.Refuse(syscall.EPERM)
	r.up.Answer(world)
	wantStatus(t, r.sync(t), false, "")
	if !strings.Contains(r.log.String(), "operation not permitted") {
		t.Errorf("log does not say the clock could not be set:\n%s", r.log)
	}
}

// TestStateUnreadable: a damaged state file is logged and ignored.
func TestStateUnreadable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "clock.json")
	if err := os.WriteFile(file, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, epoch, clock.Options{StateFile: file})
	if !strings.Contains(r.log.String(), "clock state unreadable") {
		t.Errorf("log:\n%s", r.log)
	}
	if got := r.k.Floor(); !got.Equal(built) {
		t.Errorf("floor = %v, want the build time", got)
	}
}

// TestRun runs the loop: it asks again while waiting and stops with ctx.
func TestRun(t *testing.T) {
	r := newRig(t, epoch, clock.Options{Retry: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.k.Run(ctx) }()
	for r.up.Calls() < 3 {
		time.Sleep(time.Millisecond)
	}
	r.up.Answer(world)
	for !r.k.Status().Known {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	wantStatus(t, r.k.Status(), true, clock.KindUpstream)
}

// TestNTPErrorNamesServer: a failed NTP query is logged with its server.
func TestNTPErrorNamesServer(t *testing.T) {
	var log strings.Builder
	k := clock.New(clock.Options{System: clocktest.NewSystem(epoch), Floor: built,
		Sources: []clock.Source{clock.NTP("127.0.0.1:9")}, Log: slog.New(slog.NewTextHandler(&log, nil))})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	k.Sync(ctx)
	if !strings.Contains(log.String(), "from=127.0.0.1:9") {
		t.Errorf("log does not name the server:\n%s", log.String())
	}
}
