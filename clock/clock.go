// Package clock owns the kiosk's system clock on the appliance (issue 21):
// where the time comes from, which source wins, the bounds no source may
// cross, and setting the clock.
//
// A Raspberry Pi has no battery-backed clock and boots in 1970, and TLS
// needs the right time to check certificates. The Keeper asks its sources
// — the upstream over mutual TLS, NTP servers, a DS3231 real-time clock —
// and sets the kernel's clock from the one that wins (policy.go). Until
// one answers believably it reports the time as unknown, so the kiosk can
// say so on its screen and refuse sessions instead of showing nothing.
//
// It keeps a floor under the time: the image's build time and the time
// it saved at its last run, so no source can move the clock back before
// them. It never imports the wizard, the screen or the fleet: it reports
// its Status, and cmd/kiosk passes it on.
package clock

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nhikiosk/nhikiosk/clock/sntp"
)

// Kind is a kind of time source, as logs and the fleet name it.
type Kind string

// Kinds of time source.
const (
	// KindUpstream is the registration upstream's time over mutual TLS:
	// the only authenticated source.
	KindUpstream Kind = "upstream"
	// KindNTP is an NTP server named in the configuration.
	KindNTP Kind = "ntp"
	// KindRTC is the DS3231 real-time clock, read at start.
	KindRTC Kind = "rtc"
	// KindSystem is the kernel's clock as the kiosk found it at start
	// (set from a hardware clock on a PC, or by an earlier run of the
	// kiosk in the same boot).
	KindSystem Kind = "system"
)

// Source is a place the time can be asked for.
type Source interface {
	// Kind says what kind of source it is; only KindUpstream counts as
	// authenticated.
	Kind() Kind
	// Time asks for the time now. floor is the earliest the time can be
	// (for NTP's era, and for checking the upstream's certificate). It
	// blocks until the source answers or fails, bounded by ctx and by the
	// source's own timeout. It is called from one goroutine at a time.
	Time(ctx context.Context, floor time.Time) (Reading, error)
}

// Reading is a source's answer: the time as of when Time returned.
type Reading struct {
	Time time.Time
	// From names where it came from for logs and the fleet: the NTP
	// server or the upstream's host as configured (not personal data).
	From string
}

// System is the clock the kernel keeps. The Keeper calls it from one
// goroutine at a time; neither method blocks.
type System interface {
	// Now reads it.
	Now() time.Time
	// Set sets it; on Linux this needs CAP_SYS_TIME (the kiosk runs as
	// root on gokrazy).
	Set(t time.Time) error
}

// RTC is a battery-backed clock: read once at start, written whenever
// the time is known from a better source. Both are short bus transfers,
// called from one goroutine at a time.
type RTC interface {
	Read() (time.Time, error)
	Write(t time.Time) error
}

// NTP is the source asking the NTP server server ("host" or
// "host:port") with one SNTP request.
func NTP(server string) Source { return ntpSource(server) }

type ntpSource string

func (ntpSource) Kind() Kind { return KindNTP }

func (s ntpSource) Time(ctx context.Context, floor time.Time) (Reading, error) {
	a, err := sntp.Query(ctx, string(s), floor)
	if err != nil {
		return Reading{From: string(s)}, err
	}
	return Reading{Time: a.Time, From: string(s)}, nil
}

// Func makes a Source of kind k named from out of f.
func Func(k Kind, from string, f func(ctx context.Context, floor time.Time) (time.Time, error)) Source {
	return funcSource{k, from, f}
}

type funcSource struct {
	k    Kind
	from string
	f    func(context.Context, time.Time) (time.Time, error)
}

func (s funcSource) Kind() Kind { return s.k }

func (s funcSource) Time(ctx context.Context, floor time.Time) (Reading, error) {
	t, err := s.f(ctx, floor)
	return Reading{Time: t, From: s.from}, err
}

// Errors for readings the Keeper refuses (policy.go). They wrap ErrRefused.
var (
	// ErrRefused is a reading outside what the Keeper believes.
	ErrRefused = errors.New("time refused")
	// ErrTooEarly is a time before the floor: before the image was
	// built or before the kiosk last saved the time.
	ErrTooEarly = fmt.Errorf("%w: before the floor", ErrRefused)
	// ErrTooLate is a time more than MaxAhead after the floor.
	ErrTooLate = fmt.Errorf("%w: too far after the floor", ErrRefused)
	// ErrDisagrees is an unauthenticated time that differs from the
	// upstream's (authenticated) last time plus the monotonic time since
	// by more than MaxDisagreement (and the crystal's drift).
	ErrDisagrees = fmt.Errorf("%w: disagrees with the upstream's time", ErrRefused)
)

// Status is what the Keeper knows of the time. It holds no personal data.
type Status struct {
	// Known is set once a source was believed; until then the kiosk waits.
	Known bool
	// Source is the kind of the source that last set the clock, and From
	// where it came from ("" while unknown). A reading that only confirms
	// the clock (closer than 50 ms) does not change them.
	Source Kind
	From   string
	// LastSync is when (by the corrected clock) a source last set or
	// confirmed the clock; zero while unknown.
	LastSync time.Time
	// Vouched is set while the upstream vouches for the clock: its last
	// two answers agreed with each other and the last one was accepted.
	// Only then is the floor raised, and only then does the Keeper ask
	// every SyncEvery rather than on its short backoff.
	Vouched bool
	// FloorAhead is how far the floor lies ahead of the upstream's
	// authenticated time while that time is refused as before it (the
	// floor's probation, FloorProbation); 0 otherwise.
	FloorAhead time.Duration
	// Waited is how long the kiosk waited for the time after it started
	// (0 if it was known at once).
	Waited time.Duration
}

// ReadOnly is sys for a kiosk that does not own the clock (off the
// appliance the operating system keeps it): Set does nothing.
func ReadOnly(sys System) System { return readOnly{sys} }

type readOnly struct{ System }

func (readOnly) Set(time.Time) error { return nil }

// Watch is a source that reads sys itself: off the appliance, the kiosk
// only waits until the operating system has set its clock.
func Watch(sys System) Source {
	return Func(KindSystem, "kernel", func(context.Context, time.Time) (time.Time, error) { return sys.Now(), nil })
}
