package clock

import (
	"context"
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

	mu      sync.Mutex
	st      Status
	floor   time.Time
	saved   state
	vouched bool              // the upstream set or confirmed the clock in this run
	errs    map[string]string // last error per source, to log changes only
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
	saved, err := loadState(o.StateFile)
	if err != nil {
		o.Log.Warn("clock state unreadable", "err", err)
	}
	k.saved = saved
	k.floor = latest(MinTime, o.Floor, saved.Saved)
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
			err = check(KindRTC, t, now, k.floor, false)
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

// Run asks the sources every SyncEvery once the time is known, and
// sooner while it is not (2 s, doubling up to 30 s); it saves the time
// every SaveEvery and when ctx ends. It returns nil when ctx ends.
func (k *Keeper) Run(ctx context.Context) error {
	defer k.save()
	retry := k.o.Retry
	save := time.NewTicker(k.o.SaveEvery)
	defer save.Stop()
	for {
		k.Sync(ctx)
		wait := k.o.SyncEvery
		if !k.Status().Known {
			wait, retry = retry, max(k.o.Retry, min(2*retry, retryMax))
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

// Sync asks every source once, together, and considers each answer as it
// arrives (policy.go). It returns the status after the last answer.
func (k *Keeper) Sync(ctx context.Context) Status {
	ctx, cancel := context.WithTimeout(ctx, roundTimeout)
	defer cancel()
	type answer struct {
		src Source
		r   Reading
		err error
	}
	floor := k.Floor()
	answers := make(chan answer, len(k.o.Sources))
	for _, s := range k.o.Sources {
		go func() {
			r, err := s.Time(ctx, floor)
			answers <- answer{s, r, err}
		}()
	}
	for range k.o.Sources {
		a := <-answers
		err := a.err
		if err == nil {
			err = k.consider(a.src.Kind(), a.r)
		}
		k.noteError(a.src, a.r.From, err)
	}
	return k.Status()
}

// consider checks a reading against the policy and applies it.
func (k *Keeper) consider(kind Kind, r Reading) error {
	k.mu.Lock()
	floor, vouched := k.floor, k.vouched
	k.mu.Unlock()
	if err := check(kind, r.Time, k.o.System.Now(), floor, vouched); err != nil {
		return err
	}
	return k.apply(kind, r)
}

// apply sets the clock from an accepted reading (unless it is already
// that close), writes the RTC from a better source, and updates the
// status.
func (k *Keeper) apply(kind Kind, r Reading) error {
	prev := k.Status()
	step := r.Time.Sub(k.o.System.Now())
	if !prev.Known || absDuration(step) >= minStep {
		if err := k.o.System.Set(r.Time); err != nil {
			return err
		}
	}
	if kind == KindUpstream {
		k.mu.Lock()
		k.vouched = true
		k.mu.Unlock()
	}
	if k.o.RTC != nil && kind != KindRTC {
		if err := k.o.RTC.Write(r.Time); err != nil {
			k.o.Log.Warn("real-time clock not written", "err", err)
		}
	}
	if !prev.Known || prev.Source != kind || prev.From != r.From || absDuration(step) >= minStep {
		k.o.Log.Info("clock set", "source", string(kind), "from", r.From, "time", stamp(r.Time),
			"step_ms", step.Milliseconds())
	}
	k.known(Status{Source: kind, From: r.From, LastSync: r.Time})
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
	k.st = st
	k.mu.Unlock()
	if k.o.OnChange != nil {
		k.o.OnChange(st)
	}
}

// noteError logs a source's error when it differs from its last one, and
// forgets it once the source answers believably.
func (k *Keeper) noteError(s Source, from string, err error) {
	key := string(s.Kind()) + " " + from
	msg := ""
	if err != nil {
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

// save writes the state file: the floor for the next run (raised only to
// a time the upstream vouched for, rule 4) and where the clock came from.
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
	if k.vouched {
		s.Saved = latest(s.Saved, k.o.System.Now())
		k.floor = latest(k.floor, s.Saved)
	}
	s.BootID, s.Source, s.From, s.Synced = k.bootID, st.Source, st.From, st.LastSync
	k.saved = s
	k.mu.Unlock()
	if err := saveState(k.o.StateFile, s); err != nil {
		k.o.Log.Warn("clock state not saved", "err", err)
	}
}
