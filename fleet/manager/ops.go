package manager

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// Fleet operations for many sites (issue 19): groups (tags.go), bulk jobs
// (jobs.go), central configuration (central.go), notifications
// (notify.go), site names (sites.go) and accounts (accounts.go, tokens.go).
// Their state lives in opsState; one loop (opsLoop) dispatches jobs,
// reconciles configurations and sends notifications.

// opsBuckets are the buckets of issue 19's records.
var opsBuckets = []Bucket{BucketTokens, BucketSites, BucketJobs, BucketJobTargets, BucketConfig, BucketRules, BucketNotified}

type opsState struct {
	accountsMu sync.Mutex
	kick       chan struct{} // dispatch jobs now (one was created, answered or cancelled)
	configDue  atomic.Bool   // reckon the configuration at the next tick
	sites      siteNames
	jobs       jobTable
	cfg        configTable
	notify     notifier
}

// loadOps reads issue 19's records at start.
func (m *Manager) loadOps() error {
	m.ops.kick = make(chan struct{}, 1)
	if m.opts.Location == nil {
		m.opts.Location = defaultLocation()
	}
	for _, load := range []func() error{m.loadSites, m.loadJobs, m.loadConfigLayers, m.loadNotify} {
		if err := load(); err != nil {
			return err
		}
	}
	return nil
}

// opsLoop runs jobs, configurations and notifications every tick, and at
// once when kicked.
func (m *Manager) opsLoop(ctx context.Context) {
	tk := time.NewTicker(m.opts.Tick)
	defer tk.Stop()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); m.deliverLoop(ctx) }()
	defer wg.Wait()
	lastPrune := m.opts.Now()
	for n := 0; ; {
		select {
		case <-ctx.Done():
			return
		case <-m.ops.kick:
			// A job was created or answered: send what it can now.
			m.dispatchJobs(m.opts.Now())
			continue
		case <-tk.C:
		}
		now := m.opts.Now()
		m.dispatchJobs(now)
		if m.ops.configDue.Swap(false) || n%configEvery == 0 {
			m.reconcileConfig(now)
		}
		n++
		m.notifyTick(now)
		if now.Sub(lastPrune) > time.Hour {
			lastPrune = now
			m.pruneOps(now.Add(-m.opts.Retention))
		}
	}
}

// kickOps makes the ops loop dispatch jobs now.
func (m *Manager) kickOps() {
	select {
	case m.ops.kick <- struct{}{}:
	default:
	}
}

// configChangedSoon has the configuration reckoned at the next tick
// rather than within configEvery ticks (a layer, tags, an answer).
func (m *Manager) configChangedSoon() { m.ops.configDue.Store(true) }

// afterAck routes a kiosk's answer to the job or configuration that sent
// the command.
func (m *Manager) afterAck(r CommandRecord) {
	if r.Ack == nil {
		return
	}
	if r.Job != "" {
		m.jobAck(r)
	}
	if r.Name == fleet.CmdApplyConfig {
		m.configAck(r)
	}
}

// reachable reports whether fleetd hears kiosk k now, so a command sent
// to it should arrive.
func reachable(k *Kiosk) bool {
	switch k.Status {
	case StatusOnline, StatusFaulty, StatusMaintenance:
		return !k.Revoked()
	}
	return false
}

// opsMatch is the part of Filter.Match for issue 19's filters.
func (f Filter) opsMatch(k *Kiosk) bool {
	if len(f.Sites) > 0 && !slices.Contains(f.Sites, k.Ref.Site) {
		return false
	}
	for _, t := range f.Tags {
		if !slices.Contains(k.Tags, t) {
			return false
		}
	}
	return f.Config == "" || k.ConfigState() == f.Config
}

// signAndSend signs command c for kiosk ref, records it (with ops, in one
// transaction) and publishes it. Jobs and configuration send through it;
// their audit entries are their own (a job's creation, a configuration's
// change), not one per kiosk.
func (m *Manager) signAndSend(c fleet.Command, rec CommandRecord, ops ...Op) (CommandRecord, error) {
	ref := fleet.KioskRef{Site: c.Site, Kiosk: c.Kiosk}
	c.V, c.ID = fleet.SchemaVersion, newID()
	m.opts.Signer.Sign(&c)
	if err := c.Validate(); err != nil {
		return CommandRecord{}, fmt.Errorf("send command: %w", err)
	}
	rec.ID, rec.Kiosk, rec.Name, rec.Language, rec.Sent, rec.Expires = c.ID, ref.String(), c.Name, c.Language, c.Issued, c.Expires
	if err := m.store.Write(append([]Op{Put(BucketCommands, []byte(c.ID), rec)}, ops...)...); err != nil {
		return CommandRecord{}, fmt.Errorf("send command: record: %w", err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return rec, err
	}
	if err := m.publish(ref, fleet.ChanCmd, false, b); err != nil {
		return rec, fmt.Errorf("send command: %w", err)
	}
	m.metrics.commands.Add(1)
	m.hub.publish(ref.String(), changeHealth)
	return rec, nil
}

// writeOpsMetrics writes issue 19's metrics: kiosks by configuration
// state, active jobs and their kiosks by state, notifications.
func (m *Manager) writeOpsMetrics(w io.Writer) {
	fmt.Fprintln(w, "# HELP fleetd_kiosks_config Kiosks by central configuration state.\n# TYPE fleetd_kiosks_config gauge")
	counts := m.ConfigCounts(User{})
	for _, s := range ConfigStates {
		fmt.Fprintf(w, "fleetd_kiosks_config{state=%q} %d\n", s, counts[s])
	}
	targets := map[TargetState]int{}
	m.ops.jobs.mu.Lock()
	active := len(m.ops.jobs.active)
	for _, j := range m.ops.jobs.active {
		for s, n := range j.count() {
			targets[s] += n
		}
	}
	m.ops.jobs.mu.Unlock()
	fmt.Fprintf(w, "# HELP fleetd_jobs_active Bulk jobs still sending.\n# TYPE fleetd_jobs_active gauge\nfleetd_jobs_active %d\n", active)
	fmt.Fprintln(w, "# HELP fleetd_job_kiosks Kiosks of active jobs by state.\n# TYPE fleetd_job_kiosks gauge")
	for _, s := range TargetStates {
		fmt.Fprintf(w, "fleetd_job_kiosks{state=%q} %d\n", s, targets[s])
	}
	n := &m.ops.notify
	fmt.Fprintln(w, "# HELP fleetd_notifications_total Notifications by outcome (a failed try counts once).\n# TYPE fleetd_notifications_total counter")
	fmt.Fprintf(w, "fleetd_notifications_total{result=\"sent\"} %d\nfleetd_notifications_total{result=\"failed\"} %d\nfleetd_notifications_total{result=\"dropped\"} %d\n",
		n.sent.Load(), n.failed.Load(), n.dropped.Load())
}

// pruneOps deletes finished jobs (and their kiosks' records) older than
// the retention.
func (m *Manager) pruneOps(cutoff time.Time) {
	var ops []Op
	var old []string
	EachJSON(m.store, BucketJobs, nil, func(_ []byte, j Job) error {
		if !j.Finished.IsZero() && j.Finished.Before(cutoff) {
			old = append(old, j.ID)
		}
		return nil
	})
	for _, id := range old { // not inside the scan above: one read transaction at a time
		ops = append(ops, Del(BucketJobs, []byte(id)))
		m.store.Each(BucketJobTargets, append([]byte(id), 0), func(tk, _ []byte) error {
			ops = append(ops, Del(BucketJobTargets, append([]byte(nil), tk...)))
			return nil
		})
	}
	if len(ops) == 0 {
		return
	}
	if err := m.store.Write(ops...); err != nil {
		m.log.Error("fleetd prune jobs", "err", err)
	}
}
