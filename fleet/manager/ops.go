package manager

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
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
	kick       chan struct{} // dispatch now (a job was created, a configuration changed)
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
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		case <-m.ops.kick:
		}
		now := m.opts.Now()
		m.dispatchJobs(now)
		m.reconcileConfig(now)
		m.notifyTick(now)
	}
}

// kickOps makes the ops loop run now.
func (m *Manager) kickOps() {
	select {
	case m.ops.kick <- struct{}{}:
	default:
	}
}

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
