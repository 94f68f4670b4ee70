package clock

import (
	"fmt"
	"time"
)

// Which source wins, and the bounds none may cross (docs/appliance.md,
// "The clock"):
//
//  1. Every reading must lie between the floor (the image's build time,
//     the time saved by an earlier run, MinTime) and MaxAhead after it:
//     a clock far in the past or the future is refused whatever its
//     source, so nobody can move the kiosk back to when an expired or
//     revoked certificate was still valid. A floor the upstream's time
//     stays before for FloorProbation is lowered (probation.go).
//  2. The upstream's time is authenticated (mutual TLS, its certificate
//     chain valid at the time it tells): it always wins.
//  3. NTP, the RTC and the system clock are not authenticated. They set
//     the clock while the upstream has not answered in this run (an NTP
//     server usually answers first, and more precisely); once it has,
//     they may only move it within MaxDisagreement (plus the crystal's
//     drift, anchor.go) of the upstream's last time plus the monotonic
//     time since: never of the clock itself, which they may have moved,
//     so repeated small steps do not add up.
//  4. The floor is raised only from the upstream's time plus the
//     monotonic time since, once two of its answers in a row agreed:
//     never from a clock an unauthenticated source moved, nor from one
//     wrong answer of the upstream.

// Limits.
const (
	// MaxAhead is how far after the floor a time may be: a kiosk whose
	// image and saved time are ten years old is not one to trust.
	MaxAhead = 10 * 365 * 24 * time.Hour
	// MaxDisagreement is how far from the upstream's last time (plus the
	// monotonic time since) an unauthenticated source may set the clock.
	MaxDisagreement = time.Minute
	// minStep: a reading this close to the clock does not set it.
	minStep = 50 * time.Millisecond
)

// MinTime is a floor for every kiosk running this code: it was written
// after this date. It serves when the image's build time is unknown.
var MinTime = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// check applies rules 1 and 3 to a reading of kind read at mono. up is
// the upstream's last accepted reading in this run, if any.
func check(kind Kind, t, floor time.Time, up anchor, mono time.Time) error {
	switch {
	case t.Before(floor):
		return fmt.Errorf("%w: %s is before %s", ErrTooEarly, stamp(t), stamp(floor))
	case t.After(floor.Add(MaxAhead)):
		return fmt.Errorf("%w: %s is more than %v after %s", ErrTooLate, stamp(t), MaxAhead, stamp(floor))
	case kind != KindUpstream && up.set && !up.agrees(t, mono):
		return fmt.Errorf("%w: %s differs from the upstream's time by %v (at most %v)", ErrDisagrees, stamp(t),
			t.Sub(up.predict(mono)).Round(time.Millisecond), up.tolerance(mono).Round(time.Millisecond))
	}
	return nil
}

// plausible reports whether t lies within the bounds of rule 1.
func plausible(t, floor time.Time) bool {
	return !t.Before(floor) && !t.After(floor.Add(MaxAhead))
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}
