package clock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultSyncEvery = time.Hour
	DefaultSaveEvery = 10 * time.Minute
	// While the time is unknown every source is asked again after
	// retryFirst, doubling up to retryMax.
	retryFirst = 2 * time.Second
	retryMax   = 30 * time.Second
	// roundTimeout bounds one round of asking every source.
	roundTimeout = 30 * time.Second
)

// Options configure a Keeper. Zero values take the defaults noted.
type Options struct {
	// System is the clock the Keeper reads and sets (default Kernel()).
	System System
	// Sources are asked together every round, in no particular order:
	// the upstream, the NTP servers.
	Sources []Source
	// RTC, if fitted, is read once by New and written whenever another
	// source set the clock.
	RTC RTC
	// Floor is the earliest the time can be, such as ImageTime(); the
	// Keeper also takes MinTime and the time saved in StateFile.
	Floor time.Time
	// StateFile keeps the time between runs (under data_dir; "" keeps
	// nothing).
	StateFile string
	// SyncEvery is how often the sources are asked once the time is
	// known (default DefaultSyncEvery); SaveEvery how often the time is
	// saved (default DefaultSaveEvery). While the time is unknown they
	// are asked again after Retry (default 2 s), doubling up to 30 s.
	SyncEvery, SaveEvery, Retry time.Duration
	// BootID returns the kernel's id of this boot (default: read from
	// /proc).
	BootID func() string
	// Monotonic measures how long the kiosk waited (default time.Now,
	// whose monotonic reading does not move with the wall clock).
	Monotonic func() time.Time
	// Log gets one line per clock change and per source whose error
	// changed (default: discard).
	Log *slog.Logger
	// OnChange, if set, is called after the status changed, from the
	// goroutine that changed it (New's, or Run's); it must not block.
	OnChange func(Status)
}

// Keeper keeps the kiosk's clock: New looks at the clock the kiosk found
// (and the RTC), Run asks the sources until ctx ends. Status is safe to
// call from any goroutine.
type Keeper struct {
	o       Options
	started time.Time // on o.Monotonic
	bootID  string

	mu    sync.Mutex
	st    Status
	hard  time.Time // the floor without the saved time: MinTime, Options.Floor
	floor time.Time // hard and the saved time
	saved state
	up    anchor            // the upstream's last accepted time in this run
	probe probation         // the upstream's time before the floor (probation.go)
	errs  map[string]string // last error per source, to log changes only
	// hasUpstream: a source of KindUpstream is configured (else nothing
	// can vouch for the clock, and Run does not wait for it).
	hasUpstream bool
}

// New returns a Keeper that already knows whether the clock can be
// believed at start: the kiosk restarted in a boot whose clock it had
// set, the RTC's time, or a system clock within the bounds (policy.go).
// A state file it cannot read is logged and ignored.
func New(o Options) *Keeper {
	if o.System == nil {
		o.System = Kernel()
	}
	if o.SyncEvery <= 0 {
		o.SyncEvery = DefaultSyncEvery
	}
	if o.SaveEvery <= 0 {
		o.SaveEvery = DefaultSaveEvery
	}
	if o.Retry <= 0 {
		o.Retry = retryFirst
	}
	if o.BootID == nil {
		o.BootID = kernelBootID
	}
	if o.Monotonic == nil {
		o.Monotonic = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	k := &Keeper{o: o, started: o.Monotonic(), bootID: o.BootID(), errs: map[string]string{}}
	for _, s := range o.Sources {
		k.hasUpstream = k.hasUpstream || s.Kind() == KindUpstream
	}
	saved, err := loadState(o.StateFile)
	if err != nil {
		o.Log.Warn("clock state unreadable", "err", err)
	}
	k.saved = saved
	k.hard = latest(MinTime, o.Floor)
	k.floor = latest(k.hard, saved.Saved)
	k.startup()
	return k
}

// startup decides whether the clock found at start can be believed.
func (k *Keeper) startup() {
	now, s := k.o.System.Now(), k.saved
	switch {
	case s.Source != "" && s.BootID != "" && s.BootID == k.bootID && plausible(now, k.floor):
		// Restarted in the same boot: the kernel kept the clock set.
		k.known(Status{Source: s.Source, From: s.From, LastSync: s.Synced})
		k.o.Log.Info("clock kept from earlier in this boot", "source", string(s.Source), "from", s.From)
		return
	case k.o.RTC != nil:
		t, err := k.o.RTC.Read()
		if err == nil {
			err = check(KindRTC, t, k.floor, anchor{}, k.o.Monotonic())
		}
		if err == nil {
			err = k.apply(KindRTC, Reading{Time: t, From: "ds3231"})
		}
		if err == nil {
			return
		}
		k.o.Log.Warn("real-time clock not used", "err", err)
	}
	if plausible(now, k.floor) {
		k.known(Status{Source: KindSystem, From: "kernel", LastSync: now})
		k.o.Log.Info("clock believed as found", "source", string(KindSystem), "time", stamp(now))
		return
	}
	k.o.Log.Warn("waiting for the correct time", "clock", stamp(now), "floor", stamp(k.floor))
}

// Status returns what the Keeper knows of the time.
func (k *Keeper) Status() Status {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.st
}

// Floor returns the earliest the time can be.
func (k *Keeper) Floor() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.floor
}

// Run asks the sources until ctx ends: every SyncEvery while the
// upstream vouches for the clock; while the time is unknown every source
// again after 2 s, doubling up to 30 s; and while NTP, the RTC or the
// kernel's clock set it but the upstream has not confirmed it (or has
// contradicted the floor), the upstream on that same short backoff and
// every source every SyncEvery. It saves the time every SaveEvery and
// when ctx ends, and returns nil when ctx ends.
func (k *Keeper) Run(ctx context.Context) error {
	defer k.save()
	retry := k.o.Retry
	save := time.NewTicker(k.o.SaveEvery)
	defer save.Stop()
	all, lastAll := true, time.Time{}
	for {
		if all {
			k.Sync(ctx)
			lastAll = k.o.Monotonic()
		} else {
			k.sync(ctx, KindUpstream)
		}
		wait := k.o.SyncEvery
		switch {
		case !k.Status().Known:
			wait, retry, all = retry, k.backoff(retry), true
		case k.awaitsUpstream():
			wait, retry = retry, k.backoff(retry)
			all = k.o.Monotonic().Sub(lastAll)+wait >= k.o.SyncEvery
		default:
			retry, all = k.o.Retry, true
		}
		next := time.NewTimer(wait)
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				next.Stop()
				return nil
			case <-save.C:
				k.save()
			case <-next.C:
				waiting = false
			}
		}
	}
}

func (k *Keeper) backoff(retry time.Duration) time.Duration {
	return max(k.o.Retry, min(2*retry, retryMax))
}

// awaitsUpstream reports whether the Keeper has an upstream to ask and
// it has not vouched for the clock: two answers in a row that agree, the
// last one accepted.
func (k *Keeper) awaitsUpstream() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.hasUpstream && !k.up.corroborated
}

// Sync asks every source once, together, and considers each answer as it
// arrives (policy.go). It returns the status after the last answer.
func (k *Keeper) Sync(ctx context.Context) Status { return k.sync(ctx, "") }

// sync asks the sources of kind only ("": all). Every source is given the
// hard floor (the image's build time): the Keeper itself holds readings
// to the saved floor, so it sees an upstream's authenticated time before
// a floor that is wrong (probation.go).
func (k *Keeper) sync(ctx context.Context, only Kind) Status {
	ctx, cancel := context.WithTimeout(ctx, roundTimeout)
	defer cancel()
	type answer struct {
		src Source
		r   Reading
		err error
	}
	k.mu.Lock()
	floor := k.hard
	k.mu.Unlock()
	answers := make(chan answer, len(k.o.Sources))
	n := 0
	for _, s := range k.o.Sources {
		if only != "" && s.Kind() != only {
			continue
		}
		n++
		go func() {
			r, err := s.Time(ctx, floor)
			answers <- answer{s, r, err}
		}()
	}
	for range n {
		a := <-answers
		err := a.err
		if err == nil {
			err = k.consider(a.src.Kind(), a.r)
		}
		k.noteError(a.src, a.r.From, err)
	}
	return k.Status()
}

// consider checks a reading against the policy and applies it: the
// floor's probation first (it may lower the floor), then the bounds and
// the upstream's last time; an upstream time becomes the new anchor.
func (k *Keeper) consider(kind Kind, r Reading) error {
	mono := k.o.Monotonic()
	k.mu.Lock()
	before := k.st
	lowered, lower := k.watch(kind, r.Time, mono)
	if lower {
		k.lowerFloor(lowered)
	}
	err := check(kind, r.Time, k.floor, k.up, mono)
	if kind == KindUpstream {
		if err != nil {
			// The upstream contradicts the floor: it no longer vouches
			// for the clock, and the floor stays where it is.
			k.up.corroborated = false
		} else {
			k.up = anchor{set: true, at: r.Time, mono: mono, corroborated: k.up.agrees(r.Time, mono)}
		}
		k.st.Vouched = k.up.corroborated
	}
	st, changed := k.st, k.st != before
	k.mu.Unlock()
	if changed {
		k.notify(st)
	}
	if err != nil {
		return err
	}
	return k.apply(kind, r)
}

// lowerFloor takes floor as the floor from now on and saves it at once,
// with k.mu held (the probation is over).
func (k *Keeper) lowerFloor(floor time.Time) {
	k.o.Log.Warn("floor lowered: the upstream's time stayed before it", "from", stamp(k.floor), "to", stamp(floor),
		"for", FloorProbation)
	k.floor, k.saved.Saved = floor, floor
	if k.o.StateFile != "" {
		if err := saveState(k.o.StateFile, k.saved); err != nil {
			k.o.Log.Warn("clock state not saved", "err", err)
		}
	}
}

// apply sets the clock from an accepted reading (unless it is already
// that close), writes the RTC from a better source, and updates the
// status: Source and From name the source that last set the clock, and
// are kept when a reading only confirms it.
func (k *Keeper) apply(kind Kind, r Reading) error {
	prev := k.Status()
	step := r.Time.Sub(k.o.System.Now())
	set := !prev.Known || absDuration(step) >= minStep
	if set {
		if err := k.o.System.Set(r.Time); err != nil {
			return err
		}
	}
	if k.o.RTC != nil && kind != KindRTC {
		if err := k.o.RTC.Write(r.Time); err != nil {
			k.o.Log.Warn("real-time clock not written", "err", err)
		}
	}
	st := Status{Source: prev.Source, From: prev.From, LastSync: r.Time}
	if set {
		st.Source, st.From = kind, r.From
		k.o.Log.Info("clock set", "source", string(kind), "from", r.From, "time", stamp(r.Time),
			"step_ms", step.Milliseconds())
	}
	k.known(st)
	if !prev.Known {
		k.save() // a kiosk restarted now keeps saying where its clock came from
	}
	return nil
}

// known records the clock as known from st's source, and tells OnChange.
func (k *Keeper) known(st Status) {
	k.mu.Lock()
	st.Known = true
	st.Waited = k.st.Waited
	if !k.st.Known {
		st.Waited = k.o.Monotonic().Sub(k.started)
	}
	st.Vouched, st.FloorAhead = k.st.Vouched, k.st.FloorAhead
	k.st = st
	k.mu.Unlock()
	k.notify(st)
}

// notify tells OnChange of st, without k.mu held.
func (k *Keeper) notify(st Status) {
	if k.o.OnChange != nil {
		k.o.OnChange(st)
	}
}

// noteError logs a source's error when it differs from its last one (a
// refusal of the same kind, with another time, is the same), and forgets
// it once the source answers believably.
func (k *Keeper) noteError(s Source, from string, err error) {
	key := string(s.Kind()) + " " + from
	msg := ""
	switch {
	case err == nil:
	case errors.Is(err, ErrTooEarly), errors.Is(err, ErrTooLate), errors.Is(err, ErrDisagrees):
		// The same refusal with another time each round (every 30 s while
		// the floor is on probation) is one event, logged once.
		msg = fmt.Sprint(errors.Unwrap(err))
	default:
		msg = err.Error()
	}
	k.mu.Lock()
	changed := k.errs[key] != msg
	k.errs[key] = msg
	k.mu.Unlock()
	if changed && err != nil {
		k.o.Log.Warn("time source refused or failed", "source", string(s.Kind()), "from", from, "err", err)
	}
}

// save writes the state file: the floor for the next run and where the
// clock came from. The floor is raised only to the earliest the time can
// be by the upstream's last time (rule 4), once two of its answers in a
// row agreed: never from the system clock, which NTP, the RTC or the
// kernel's clock may have moved.
func (k *Keeper) save() {
	if k.o.StateFile == "" {
		return
	}
	k.mu.Lock()
	st, s := k.st, k.saved
	if !st.Known {
		k.mu.Unlock()
		return
	}
	if k.up.corroborated {
		s.Saved = latest(s.Saved, k.up.earliest(k.o.Monotonic()))
		k.floor = latest(k.floor, s.Saved)
	}
	s.BootID, s.Source, s.From, s.Synced = k.bootID, st.Source, st.From, st.LastSync
	k.saved = s
	k.mu.Unlock()
	if err := saveState(k.o.StateFile, s); err != nil {
		k.o.Log.Warn("clock state not saved", "err", err)
	}
}
