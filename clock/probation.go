package clock

import "time"

// FloorProbation is how long the upstream's authenticated time must stay
// before the floor — following the monotonic clock, with no source
// disagreeing — before the Keeper takes it and lowers the floor
// (docs/appliance.md, "A floor that is wrong"). A floor that far ahead of
// every source that agrees is more likely wrong (the upstream's clock was
// off for a while, a damaged or restored clock.json) than an attack: an
// attacker would need the key of an upstream certificate valid at the
// earlier time and to answer for the kiosk's upstream without a break
// for this long, while the kiosk says it is out of service.
const FloorProbation = 24 * time.Hour

// probation follows the upstream's times while they lie before the floor.
type probation struct {
	anchor           // the upstream's latest time before the floor
	start  time.Time // on the monotonic clock, when the probation began
}

// watch puts a reading of kind (any source, accepted or not) read at mono
// through the floor's probation, with k.mu held: an upstream time before
// the floor (but not before the hard floor) begins one; another that
// follows it on the monotonic clock continues it; any reading that
// disagrees ends it. It returns the floor to lower to once the upstream
// has been before the floor for FloorProbation.
func (k *Keeper) watch(kind Kind, t, mono time.Time) (time.Time, bool) {
	p := &k.probe
	below := kind == KindUpstream && t.Before(k.floor) && !t.Before(k.hard)
	switch {
	case p.set && p.agrees(t, mono):
		if kind != KindUpstream {
			return time.Time{}, false // another source agrees
		}
		p.at, p.mono = t, mono
	case below:
		*p = probation{anchor: anchor{set: true, at: t, mono: mono}, start: mono}
		k.o.Log.Warn("the floor is ahead of the upstream's time; it is lowered if the upstream stays there",
			"floor", stamp(k.floor), "upstream", stamp(t), "ahead", k.floor.Sub(t).Round(time.Second),
			"after", FloorProbation, "reset", "remove clock.json (docs/appliance.md)")
	case p.set:
		k.o.Log.Warn("floor probation ended: a time source disagrees with the upstream's time before the floor",
			"source", string(kind), "time", stamp(t))
		*p = probation{}
	}
	k.st.FloorAhead = 0
	if !p.set {
		return time.Time{}, false
	}
	k.st.FloorAhead = k.floor.Sub(p.predict(mono))
	if !below || mono.Sub(p.start) < FloorProbation {
		return time.Time{}, false
	}
	*p = probation{}
	k.st.FloorAhead = 0
	return latest(k.hard, t.Add(-MaxDisagreement)), true
}
