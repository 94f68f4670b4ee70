package main

import (
	"context"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/fleet"
)

// health is the agent's HealthFunc: the machine read now (small files and
// a statfs), the rest as last gathered by run.
func (kf *kioskFleet) health() fleet.Health {
	h := fleet.Health{UptimeS: int64(kf.now().Sub(kf.booted).Seconds()), Display: fleet.Token(kf.cfg.Display.Backend)}
	if b, err := readSys(kf.paths.Thermal); err == nil {
		if c, err := parseThermal(b); err == nil {
			h.CPUTempC = &c
		}
	}
	if b, err := readSys(kf.paths.LoadAvg); err == nil {
		h.Load1, _ = parseLoadAvg(b)
	}
	if b, err := readSys(kf.paths.MemInfo); err == nil {
		h.MemUsedPct, _ = parseMemInfo(b)
	}
	h.PermFreeBytes, h.PermFreePct, _ = diskFree(kf.cfg.DataDir)
	kf.mu.Lock()
	defer kf.mu.Unlock()
	h.Reader = fleet.Reader{Present: kf.readerOK, Name: kf.readerName}
	h.Upstream = fleet.UpstreamHealth{Reachable: kf.upOK, LastLatencyMS: kf.upLatency.Milliseconds()}
	h.Outbox = fleet.Outbox{Depth: kf.outDepth, DeadLetters: kf.outDead, SetAside: kf.outAside}
	if kf.outDepth > 0 && !kf.outSince.IsZero() {
		// The age of the stall, which the oldest item is at least as old as.
		h.Outbox.OldestAgeS = int64(kf.now().Sub(kf.outSince).Seconds())
	}
	h.Sessions = sessionsHealth(kf.sessions)
	h.Errors = map[fleet.ErrorKind]uint64{}
	for k, n := range kf.errs {
		h.Errors[k] = n
	}
	if kf.screen != nil {
		if n := kf.screen.errors(); n > 0 {
			h.Errors[fleet.ErrKindDisplay] = n
		}
	}
	if len(h.Errors) == 0 {
		h.Errors = nil
	}
	if kf.clock != nil {
		h.Clock = kf.clock()
	}
	return h
}

// sessionsHealth maps the wizard's counts onto the fleet's abort reasons;
// a reason the fleet does not know is counted as cancelled.
func sessionsHealth(c appliance.SessionCounts) fleet.Sessions {
	s := fleet.Sessions{Started: c.Started, Completed: c.Completed}
	for why, n := range c.Aborted {
		r := fleet.AbortReason(why)
		switch r {
		case fleet.AbortCardRemoved, fleet.AbortIdle, fleet.AbortMaxDuration, fleet.AbortCancelled,
			fleet.AbortUpstream, fleet.AbortCardError:
		default:
			r = fleet.AbortCancelled
		}
		if s.Aborted == nil {
			s.Aborted = map[fleet.AbortReason]uint64{}
		}
		s.Aborted[r] += n
	}
	return s
}

// run gathers what health cannot read quickly (upstream, outbox, the
// wizard's counts) every probeEvery until ctx ends.
func (kf *kioskFleet) run(ctx context.Context) error {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		kf.gather(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// gather probes upstream, reads the outbox and the wizard's counts once.
func (kf *kioskFleet) gather(ctx context.Context) {
	kf.probeUpstream(ctx)
	qctx, cancel := context.WithTimeout(ctx, probeTimeout)
	var counts appliance.SessionCounts
	err := kf.k.Query(qctx, func(st appliance.Status) { counts = st.Counts })
	cancel()
	if err == nil {
		kf.mu.Lock()
		kf.sessions = counts
		kf.mu.Unlock()
	}
	if kf.outbox != nil {
		n, err := kf.outbox.Len()
		dead, derr := kf.outbox.Dead()
		aside, aerr := kf.outbox.SetAside()
		if err != nil || derr != nil || aerr != nil {
			kf.countError(fleet.ErrKindOutbox)
			return
		}
		kf.watchOutbox(n)
		kf.watchDead(dead, aside)
	}
}

// watchDead records the dead letters and the entries set aside, and
// raises outbox_dead_letter (with the count, nothing of the
// registration) when there are more dead letters than at the last
// reading, or any at the first reading after boot: a registration the
// upstream refused is never lost silently (issue 13).
func (kf *kioskFleet) watchDead(dead, aside int) {
	kf.mu.Lock()
	send := dead > kf.outDead || !kf.deadRead && dead > 0
	kf.outDead, kf.outAside, kf.deadRead = dead, aside, true
	kf.mu.Unlock()
	if send {
		kf.countError(fleet.ErrKindOutbox)
		kf.event(fleet.EvOutboxDeadLetter, fleet.EventFields{Count: int64(dead)})
	}
}

// probeUpstream asks upstream for its terms (a cheap GET) and records
// whether it answered and how fast.
func (kf *kioskFleet) probeUpstream(ctx context.Context) bool {
	if kf.probe == nil {
		return false
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	start := kf.now()
	_, err := kf.probe.Terms(pctx)
	took := kf.now().Sub(start)
	if err != nil && ctx.Err() != nil {
		return false // shutting down: not the upstream's fault
	}
	if err != nil {
		kf.countError(fleet.ErrKindUpstream)
	}
	kf.mu.Lock()
	defer kf.mu.Unlock()
	kf.upOK = err == nil
	if err == nil {
		kf.upLatency = took
	}
	return kf.upOK
}

// watchOutbox records the outbox depth and reports outbox_stuck once when
// it has not shrunk for outboxStuckFor.
func (kf *kioskFleet) watchOutbox(depth int) {
	now := kf.now()
	kf.mu.Lock()
	if depth == 0 || depth < kf.outDepth || kf.outSince.IsZero() {
		kf.outSince, kf.outStuck = now, false
	}
	kf.outDepth = depth
	stall := now.Sub(kf.outSince)
	send := depth > 0 && !kf.outStuck && stall >= outboxStuckFor
	if send {
		kf.outStuck = true
	}
	kf.mu.Unlock()
	if send {
		kf.countError(fleet.ErrKindOutbox)
		kf.event(fleet.EvOutboxStuck, fleet.EventFields{Count: int64(depth), AgeS: int64(stall.Seconds())})
	}
}
