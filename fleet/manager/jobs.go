package manager

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// Bulk jobs (issue 19): one action for many kiosks (a selection, a group,
// a site), sent as one job. fleetd sends each kiosk its own signed
// command while it is reachable, records each answer, and retries the
// kiosks it could not reach (offline, a command that expired unanswered,
// a refusal because a citizen was in a session) until the job expires.

// Buckets of jobs.
var (
	BucketJobs       = Bucket("jobs")        // id → Job
	BucketJobTargets = Bucket("job_targets") // id \x00 site/kiosk → JobTarget
)

// JobActions are the commands a job may send.
var JobActions = []fleet.CommandName{fleet.CmdMaintenanceOn, fleet.CmdMaintenanceOff, fleet.CmdRestart,
	fleet.CmdSelfTest, fleet.CmdSetLanguage}

// Job limits.
const (
	DefaultJobLifetime = 24 * time.Hour
	MinJobLifetime     = time.Minute
	MaxJobLifetime     = 7 * 24 * time.Hour
	MaxJobKiosks       = 10000
	// jobSendsPerTick bounds the commands one tick sends, so a job for
	// thousands of kiosks does not flood the broker.
	jobSendsPerTick = 200
	// jobRetryAfter is how long a kiosk that refused for a session (or
	// was busy) waits before the job asks again.
	jobRetryAfter = 30 * time.Second
	// answerGrace is how long after a command expired fleetd still waits
	// for its answer before it counts it unanswered.
	answerGrace = 10 * time.Second
)

// TargetState is where one kiosk of a job is.
type TargetState string

// Target states; waiting and sent are not final.
const (
	TargetWaiting   TargetState = "waiting"   // not sent now: the kiosk is not reachable, or asked to wait
	TargetSent      TargetState = "sent"      // sent, no answer yet
	TargetOK        TargetState = "ok"        // done
	TargetRefused   TargetState = "refused"   // the kiosk will not (unsupported, invalid)
	TargetFailed    TargetState = "failed"    // it tried and failed
	TargetRejected  TargetState = "rejected"  // it refused the command itself
	TargetExpired   TargetState = "expired"   // the job expired first
	TargetCancelled TargetState = "cancelled" // an operator cancelled the job first
)

// TargetStates lists the states in the order the console shows them.
var TargetStates = []TargetState{TargetOK, TargetSent, TargetWaiting, TargetRefused, TargetFailed, TargetRejected,
	TargetExpired, TargetCancelled}

func (s TargetState) final() bool { return s != TargetWaiting && s != TargetSent }

// Job is one bulk action.
type Job struct {
	ID        string            `json:"id"`
	Action    fleet.CommandName `json:"action"`
	Language  string            `json:"language,omitempty"`
	Selection string            `json:"selection"` // what the operator chose, in words
	// Named, Tags, Site, Status and Within are the selection: so many
	// kiosks named, or a group, site or status (within the user's sites).
	Named     int                      `json:"named,omitempty"`
	Tags      []string                 `json:"tags,omitempty"`
	Site      string                   `json:"site,omitempty"`
	Status    Status                   `json:"status,omitempty"`
	Within    []string                 `json:"within,omitempty"`
	By        string                   `json:"by"`
	Created   time.Time                `json:"created"`
	Expires   time.Time                `json:"expires"`
	Finished  time.Time                `json:"finished,omitzero"`
	Cancelled bool                     `json:"cancelled,omitempty"`
	Total     int                      `json:"total"`
	Counts    map[TargetState]int      `json:"counts"`
	Sites     []string                 `json:"sites"` // the sites of its kiosks
	Targets   []JobTarget              `json:"targets,omitempty"`
	byKiosk   map[string]*JobTarget    // active jobs only
	byCmd     map[fleet.Token]struct{} // commands it sent
}

// JobTarget is one kiosk of a job.
type JobTarget struct {
	Kiosk    string      `json:"kiosk"`
	State    TargetState `json:"state"`
	Attempts int         `json:"attempts"`
	Command  fleet.Token `json:"command,omitempty"`
	SentAt   time.Time   `json:"sent_at,omitzero"`
	Answered time.Time   `json:"answered,omitzero"`
	Reason   string      `json:"reason,omitempty"`
	RetryAt  time.Time   `json:"retry_at,omitzero"`
}

type jobTable struct {
	mu     sync.Mutex
	active map[string]*Job
}

func targetKey(job, kiosk string) []byte { return append(append([]byte(job), 0), kiosk...) }

func (m *Manager) loadJobs() error {
	m.ops.jobs.active = map[string]*Job{}
	err := EachJSON(m.store, BucketJobs, nil, func(_ []byte, j Job) error {
		if j.Finished.IsZero() {
			jj := j
			m.ops.jobs.active[j.ID] = &jj
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load jobs: %w", err)
	}
	for id, j := range m.ops.jobs.active {
		j.byKiosk, j.byCmd = map[string]*JobTarget{}, map[fleet.Token]struct{}{}
		err := EachJSON(m.store, BucketJobTargets, append([]byte(id), 0), func(_ []byte, t JobTarget) error {
			tt := t
			j.byKiosk[t.Kiosk] = &tt
			if t.Command != "" {
				j.byCmd[t.Command] = struct{}{}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("load job %s: %w", id, err)
		}
	}
	return nil
}

// JobRequest is what an operator asks for: an action and kiosks, named or
// by group (Tags), site or status.
type JobRequest struct {
	Action   fleet.CommandName `json:"action"`
	Language string            `json:"language,omitempty"`
	Kiosks   []string          `json:"kiosks,omitempty"`
	Tags     []string          `json:"tags,omitempty"`
	Site     string            `json:"site,omitempty"`
	Status   Status            `json:"status,omitempty"`
	// Lifetime is how long the job retries (default 24 h, 1 min–7 days).
	Lifetime Duration `json:"lifetime,omitempty"`
}

// Duration is a time.Duration written in JSON as "90m".
type Duration time.Duration

// UnmarshalJSON reads "90m" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		v, err := time.ParseDuration(s)
		*d = Duration(v)
		return err
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New(`want a duration such as "2h"`)
	}
	*d = Duration(time.Duration(n * float64(time.Second)))
	return nil
}

// MarshalJSON writes d as "90m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// CreateJob starts a job for u: it selects the kiosks, records the job and
// its audit entry, and has it sent at once.
func (m *Manager) CreateJob(u User, req JobRequest) (Job, error) {
	if !u.Operates() {
		return Job{}, ErrNotOperator
	}
	if !slices.Contains(JobActions, req.Action) {
		return Job{}, fmt.Errorf("job: action %q is not one of %v", req.Action, JobActions)
	}
	probe := fleet.Command{V: fleet.SchemaVersion, ID: "probe", Site: "s", Kiosk: "k", KeyID: "k", Name: req.Action, Language: req.Language}
	if err := probe.Validate(); err != nil {
		return Job{}, fmt.Errorf("job: %w", err)
	}
	life := time.Duration(req.Lifetime)
	if life == 0 {
		life = DefaultJobLifetime
	}
	if life < MinJobLifetime || life > MaxJobLifetime {
		return Job{}, fmt.Errorf("job: lifetime %v, want %v–%v", life, MinJobLifetime, MaxJobLifetime)
	}
	names, err := m.selectKiosks(u, req.Kiosks, Filter{Tags: req.Tags, Site: req.Site, Status: req.Status})
	if err != nil {
		return Job{}, fmt.Errorf("job: %w", err)
	}
	if len(names) == 0 || len(names) > MaxJobKiosks {
		return Job{}, fmt.Errorf("job: %d kiosks selected, want 1–%d", len(names), MaxJobKiosks)
	}
	now := m.opts.Now().UTC()
	j := &Job{ID: string(newID()), Action: req.Action, Language: req.Language, Selection: selectionText(req, u),
		By: u.Name, Created: now, Expires: now.Add(life), Total: len(names), Named: len(req.Kiosks),
		byKiosk: map[string]*JobTarget{}, byCmd: map[fleet.Token]struct{}{}}
	if j.Named == 0 {
		j.Tags, j.Site, j.Status, j.Within = req.Tags, req.Site, req.Status, u.Sites
	}
	sites := map[string]bool{}
	ops := make([]Op, 0, len(names)+2)
	for _, n := range names {
		t := &JobTarget{Kiosk: n, State: TargetWaiting}
		j.byKiosk[n] = t
		ops = append(ops, Put(BucketJobTargets, targetKey(j.ID, n), *t))
		ref, _ := fleet.ParseKioskRef(n)
		sites[ref.Site] = true
	}
	j.Sites = sortedKeys(sites)
	j.Counts = j.count()
	ops = append(ops, Put(BucketJobs, []byte(j.ID), j.record()),
		m.auditOp(now, u.Name, "job_create", "", fmt.Sprintf("%s %s%s: %s, %d kiosks", j.ID, j.Action, spaced(j.Language), j.Selection, j.Total)))
	if err := m.store.Write(ops...); err != nil {
		return Job{}, fmt.Errorf("job: record: %w", err)
	}
	m.ops.jobs.mu.Lock()
	m.ops.jobs.active[j.ID] = j
	m.ops.jobs.mu.Unlock()
	m.log.Info("fleetd job created", "user", u.Name, "job", j.ID, "action", string(j.Action), "kiosks", j.Total)
	m.kickOps()
	return j.view(), nil
}

func spaced(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

// selectionText describes what the operator chose, for the job's record.
func selectionText(r JobRequest, u User) string {
	var s string
	switch {
	case len(r.Kiosks) > 0:
		s = fmt.Sprintf("%d kiosks", len(r.Kiosks))
	default:
		for _, t := range r.Tags {
			s += " group " + t
		}
		if r.Site != "" {
			s += " site " + r.Site
		}
		if r.Status != "" {
			s += " status " + string(r.Status)
		}
		s = s[1:]
		if !u.AllSites() {
			s += " (within " + sitesText(u.Sites) + ")"
		}
	}
	return s
}

// count tallies the targets by state.
func (j *Job) count() map[TargetState]int {
	c := map[TargetState]int{}
	for _, t := range j.byKiosk {
		c[t.State]++
	}
	return c
}

// record is what the store keeps of j (targets have their own records).
func (j *Job) record() Job {
	r := *j
	r.Targets, r.byKiosk, r.byCmd = nil, nil, nil
	return r
}

// view is j with its targets, by kiosk name, for the console and API.
func (j *Job) view() Job {
	v := j.record()
	v.Counts = j.count()
	for _, t := range j.byKiosk {
		v.Targets = append(v.Targets, *t)
	}
	sort.Slice(v.Targets, func(a, b int) bool { return v.Targets[a].Kiosk < v.Targets[b].Kiosk })
	return v
}

// Done is how many targets are final.
func (j Job) Done() int {
	n := 0
	for s, c := range j.Counts {
		if s.final() {
			n += c
		}
	}
	return n
}

// Active reports whether j still sends.
func (j Job) Active() bool { return j.Finished.IsZero() }

// jobSend is one command a tick sends for a job.
type jobSend struct {
	job     *Job
	target  string
	expires time.Time
}

// dispatchJobs sends what each active job can send now, notices
// unanswered commands and finishes jobs that are done or expired.
func (m *Manager) dispatchJobs(now time.Time) {
	var sends []jobSend
	var writes []Op
	var touched []string
	m.ops.jobs.mu.Lock()
	for id, j := range m.ops.jobs.active {
		if now.After(j.Expires) || j.Cancelled {
			end := TargetExpired
			if j.Cancelled {
				end = TargetCancelled
			}
			for _, t := range j.byKiosk {
				if !t.State.final() {
					t.State = end
					writes = append(writes, Put(BucketJobTargets, targetKey(id, t.Kiosk), *t))
				}
			}
		}
		for _, t := range j.byKiosk {
			switch {
			case t.State == TargetSent && now.After(t.SentAt.Add(CommandLifetime+answerGrace)):
				// Unanswered: the kiosk went away; ask again when it is back.
				t.State, t.Reason = TargetWaiting, "unanswered"
				writes = append(writes, Put(BucketJobTargets, targetKey(id, t.Kiosk), *t))
			case t.State == TargetWaiting && !now.Before(t.RetryAt) && len(sends) < jobSendsPerTick:
				if k, ok := m.Kiosk(t.Kiosk); ok && reachable(&k) && j.Expires.Sub(now) > 5*time.Second {
					sends = append(sends, jobSend{job: j, target: t.Kiosk, expires: minTime(now.Add(CommandLifetime), j.Expires)})
				}
			}
		}
		counts := j.count()
		done := 0
		for s, c := range counts {
			if s.final() {
				done += c
			}
		}
		if done == j.Total || now.After(j.Expires) || j.Cancelled {
			j.Finished, j.Counts = now.UTC(), counts
			writes = append(writes, Put(BucketJobs, []byte(id), j.record()))
			delete(m.ops.jobs.active, id)
			touched = append(touched, id)
		}
	}
	m.ops.jobs.mu.Unlock()
	for _, s := range sends {
		writes = append(writes, m.sendForJob(s, now)...)
		touched = append(touched, s.job.ID)
	}
	if len(writes) > 0 {
		if err := m.store.Write(writes...); err != nil {
			m.log.Error("fleetd job record", "err", err)
		}
	}
	for _, id := range slices.Compact(sorted(touched)) {
		m.hub.publish(jobWatch(id), changeHealth)
	}
	if len(touched) > 0 {
		m.hub.publish(WatchJobs, changeHealth)
	}
}

func sorted(s []string) []string { sort.Strings(s); return s }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// sendForJob signs and sends one job's command to one kiosk and records
// the attempt.
func (m *Manager) sendForJob(s jobSend, now time.Time) []Op {
	j := s.job
	ref, _ := fleet.ParseKioskRef(s.target)
	c := fleet.Command{Site: ref.Site, Kiosk: ref.Kiosk, Name: j.Action, Language: j.Language, Issued: now.UTC(), Expires: s.expires.UTC()}
	rec, err := m.signAndSend(c, CommandRecord{By: j.By, Job: j.ID})
	m.ops.jobs.mu.Lock()
	defer m.ops.jobs.mu.Unlock()
	t := j.byKiosk[s.target]
	if t == nil || t.State.final() {
		return nil
	}
	t.Attempts++
	if err != nil {
		t.State, t.Reason, t.RetryAt = TargetWaiting, "send_failed", now.Add(jobRetryAfter)
		m.log.Warn("fleetd job send", "job", j.ID, "kiosk", s.target, "err", err)
	} else {
		t.State, t.Command, t.SentAt, t.Reason = TargetSent, rec.ID, now.UTC(), ""
		j.byCmd[rec.ID] = struct{}{}
	}
	return []Op{Put(BucketJobTargets, targetKey(j.ID, s.target), *t)}
}

// jobAck records a kiosk's answer to a job's command.
func (m *Manager) jobAck(r CommandRecord) {
	a := r.Ack
	m.ops.jobs.mu.Lock()
	j := m.ops.jobs.active[r.Job]
	var t *JobTarget
	if j != nil {
		if _, ours := j.byCmd[r.ID]; ours {
			t = j.byKiosk[r.Kiosk]
		}
	}
	if t == nil || t.State.final() {
		m.ops.jobs.mu.Unlock()
		return
	}
	now := m.opts.Now().UTC()
	t.Answered, t.Reason = now, string(a.Reason)+string(a.Reject)
	switch {
	case a.Status == fleet.AckOK:
		t.State = TargetOK
	case a.Reason == fleet.ReasonSessionActive || a.Status == fleet.AckRejected && (a.Reject == fleet.RejectExpired || a.Reject == fleet.RejectNotYetValid):
		// A citizen is using it, or the clocks disagree: ask again later.
		t.State, t.RetryAt = TargetWaiting, now.Add(jobRetryAfter)
	case a.Status == fleet.AckRefused && isBusy(a.Reason):
		t.State, t.RetryAt = TargetWaiting, now.Add(jobRetryAfter)
	case a.Status == fleet.AckRefused:
		t.State = TargetRefused
	case a.Status == fleet.AckFailed:
		t.State = TargetFailed
	default:
		t.State = TargetRejected
	}
	op := Put(BucketJobTargets, targetKey(j.ID, t.Kiosk), *t)
	m.ops.jobs.mu.Unlock()
	if err := m.store.Write(op); err != nil {
		m.log.Error("fleetd job answer", "err", err)
	}
	m.hub.publish(jobWatch(j.ID), changeHealth)
	// The next tick finishes the job if this was its last answer.
}

// isBusy reports whether a refusal reason means "not now" (issue 15's
// busy: an update in progress).
func isBusy(r fleet.AckReason) bool { return r == "busy" }

// Watches for job pages.
const WatchJobs = "jobs"

func jobWatch(id string) string { return "job:" + id }

// CancelJob stops job id: kiosks not yet done are not asked any more.
func (m *Manager) CancelJob(u User, id string) error {
	if !u.Operates() {
		return ErrNotOperator
	}
	m.ops.jobs.mu.Lock()
	j := m.ops.jobs.active[id]
	if j != nil && !u.AllSites() {
		for _, s := range j.Sites {
			if !u.MaySee(s) {
				j = nil
				break
			}
		}
	}
	if j != nil {
		j.Cancelled = true
	}
	m.ops.jobs.mu.Unlock()
	if j == nil {
		return fmt.Errorf("cancel job %s: no such active job of your sites", id)
	}
	if err := m.store.Write(m.auditOp(m.opts.Now().UTC(), u.Name, "job_cancel", "", id)); err != nil {
		return err
	}
	m.kickOps()
	return nil
}

// JobFor returns job id as u may see it: an active one from memory, a
// finished one from the store.
func (m *Manager) JobFor(u User, id string) (Job, bool) {
	m.ops.jobs.mu.Lock()
	if j := m.ops.jobs.active[id]; j != nil {
		v := j.view()
		m.ops.jobs.mu.Unlock()
		return v, mayAll(u, v.Sites)
	}
	m.ops.jobs.mu.Unlock()
	var j Job
	if ok, err := m.store.Get(BucketJobs, []byte(id), &j); err != nil || !ok {
		return Job{}, false
	}
	EachJSON(m.store, BucketJobTargets, append([]byte(id), 0), func(_ []byte, t JobTarget) error {
		j.Targets = append(j.Targets, t)
		return nil
	})
	return j, mayAll(u, j.Sites)
}

func mayAll(u User, sites []string) bool {
	for _, s := range sites {
		if !u.MaySee(s) {
			return false
		}
	}
	return true
}

// Jobs returns the newest jobs u may see (active first), without targets.
func (m *Manager) Jobs(u User, limit int) []Job {
	var out []Job
	m.ops.jobs.mu.Lock()
	for _, j := range m.ops.jobs.active {
		if mayAll(u, j.Sites) {
			v := j.record()
			v.Counts = j.count()
			out = append(out, v)
		}
	}
	m.ops.jobs.mu.Unlock()
	EachJSON(m.store, BucketJobs, nil, func(_ []byte, j Job) error {
		if !j.Finished.IsZero() && mayAll(u, j.Sites) {
			out = append(out, j)
		}
		return nil
	})
	sort.Slice(out, func(a, b int) bool {
		if out[a].Active() != out[b].Active() {
			return out[a].Active()
		}
		return out[a].Created.After(out[b].Created)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}
