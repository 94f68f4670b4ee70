package clock

import "time"

// anchor is an upstream reading and when it came on the monotonic clock:
// from it the Keeper knows the time now without trusting the system
// clock, which an unauthenticated source may have moved since. The
// upstream's latest accepted reading bounds what NTP, the RTC and the
// kernel's clock may do (rule 3), and is the only time the floor is
// raised from (rule 4). A floor probation (probation.go) keeps one too.
type anchor struct {
	set  bool
	at   time.Time // the upstream's time
	mono time.Time // Options.Monotonic when it came
	// corroborated: the upstream reading before this one agreed with it
	// (within tolerance of its prediction), so a single wrong answer of
	// the upstream neither raises the floor nor ends the short retries.
	corroborated bool
}

// Drift allowance: the kiosk's crystal runs off by up to driftRatio⁻¹
// (100 ppm, 8.6 s a day); an unauthenticated source may correct the
// clock by that much more than MaxDisagreement, up to MaxDrift, so a
// kiosk whose upstream is away for weeks still follows an honest NTP
// server. A forger gains nothing by waiting: the window is around the
// upstream's time, not the clock's.
const (
	driftRatio = 10_000
	// MaxDrift bounds the drift allowance: an unauthenticated source
	// never moves the clock more than MaxDisagreement+MaxDrift away from
	// the upstream's last time plus the monotonic time since.
	MaxDrift = time.Minute
)

// since is the monotonic time since the anchor's reading.
func (a anchor) since(mono time.Time) time.Duration { return max(mono.Sub(a.mono), 0) }

// predict is the time now by the anchor: its reading plus the monotonic
// time since.
func (a anchor) predict(mono time.Time) time.Time { return a.at.Add(a.since(mono)) }

// drift is how far the monotonic clock may have run off since the reading.
func (a anchor) drift(mono time.Time) time.Duration { return min(a.since(mono)/driftRatio, MaxDrift) }

// tolerance is how far another reading may lie from predict.
func (a anchor) tolerance(mono time.Time) time.Duration { return MaxDisagreement + a.drift(mono) }

// agrees reports whether t, read at mono, lies within tolerance of the
// anchor's prediction.
func (a anchor) agrees(t, mono time.Time) bool {
	return a.set && absDuration(t.Sub(a.predict(mono))) <= a.tolerance(mono)
}

// earliest is the earliest the time can be now by the anchor: a floor
// that a monotonic clock running fast cannot push past the right time.
func (a anchor) earliest(mono time.Time) time.Time { return a.predict(mono).Add(-a.drift(mono)) }
