package manager

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Notifications (issue 19): rules that tell people of alerts by e-mail
// (SMTP) and webhook (JSON signed with HMAC-SHA256) when an alert is new,
// when it is still unacknowledged after a while (escalated), and when it
// is resolved; each rule only for some alert kinds, sites or groups (so
// each site's alerts reach its own people), and quiet during its quiet
// hours (what would have been sent then is sent when they end, if still
// true). Every notification sent, and every one that could not be, is in
// the audit log. What was told is kept, so a restart tells nothing twice.

// Buckets of notifications.
var (
	BucketRules    = Bucket("notify_rules") // id → Rule
	BucketNotified = Bucket("notified")     // rule \x00 kiosk \x00 kind \x00 since → notified
)

// Notification events.
const (
	NotifyNew       = "new"
	NotifyEscalated = "escalated"
	NotifyResolved  = "resolved"
)

// Rule is one notification rule.
type Rule struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Kinds, Sites and Tags narrow the alerts the rule is for (none: all).
	// A rule with sites or tags is never for a fleet-wide alert.
	Kinds []AlertKind `json:"kinds,omitempty"`
	Sites []string    `json:"sites,omitempty"`
	Tags  []string    `json:"tags,omitempty"`
	// Email are the recipients; Webhook receives JSON signed with Secret.
	Email   []string `json:"email,omitempty"`
	Webhook string   `json:"webhook,omitempty"`
	Secret  string   `json:"secret,omitempty"`
	// OnNew, OnResolved and EscalateAfter (0: never) say when to tell.
	OnNew         bool     `json:"on_new"`
	OnResolved    bool     `json:"on_resolved"`
	EscalateAfter Duration `json:"escalate_after,omitempty"`
	// QuietFrom and QuietTo ("22:00", "07:00", in the console's time
	// zone) are the rule's quiet hours; empty: none.
	QuietFrom string    `json:"quiet_from,omitempty"`
	QuietTo   string    `json:"quiet_to,omitempty"`
	Disabled  bool      `json:"disabled,omitempty"`
	By        string    `json:"by,omitempty"`
	Updated   time.Time `json:"updated,omitzero"`
}

// RuleView is a rule as the console and API show it: its webhook secret
// is never shown back.
type RuleView struct {
	Rule
	SecretSet bool `json:"secret_set"`
}

func (r Rule) view() RuleView {
	v := RuleView{Rule: r, SecretSet: r.Secret != ""}
	v.Secret = ""
	return v
}

// notified is what was told of one alert under one rule.
type notified struct {
	Rule      string    `json:"rule"`
	Kiosk     string    `json:"kiosk"`
	Kind      AlertKind `json:"kind"`
	Since     time.Time `json:"since"`
	New       bool      `json:"new,omitempty"`
	Escalated bool      `json:"escalated,omitempty"`
}

func (n notified) key() []byte {
	return []byte(n.Rule + "\x00" + n.Kiosk + "\x00" + string(n.Kind) + "\x00" + strconv.FormatInt(n.Since.UnixNano(), 10))
}

type notifier struct {
	mu      sync.Mutex
	rules   map[string]Rule
	told    map[string]*notified
	queue   chan delivery
	sent    atomic.Uint64
	failed  atomic.Uint64
	dropped atomic.Uint64
}

func (m *Manager) loadNotify() error {
	n := &m.ops.notify
	n.rules, n.told, n.queue = map[string]Rule{}, map[string]*notified{}, make(chan delivery, 1024)
	err := EachJSON(m.store, BucketRules, nil, func(_ []byte, r Rule) error {
		n.rules[r.ID] = r
		return nil
	})
	if err != nil {
		return fmt.Errorf("load notification rules: %w", err)
	}
	return EachJSON(m.store, BucketNotified, nil, func(k []byte, t notified) error {
		tt := t
		n.told[string(k)] = &tt
		return nil
	})
}

// validRule checks a rule an admin wrote.
func validRule(r *Rule) error {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" || len([]rune(r.Name)) > 80 {
		return errors.New("a rule needs a name of 1–80 characters")
	}
	for _, k := range r.Kinds {
		if !slices.Contains(AlertKinds, k) {
			return fmt.Errorf("alert kind %q is not one of %v", k, AlertKinds)
		}
	}
	var err error
	if r.Sites, err = validSites(r.Sites); err != nil {
		return err
	}
	for _, t := range r.Tags {
		if !ValidTag(t) {
			return fmt.Errorf("tag %q is not a tag", t)
		}
	}
	for i, e := range r.Email {
		a, err := mail.ParseAddress(strings.TrimSpace(e))
		if err != nil {
			return fmt.Errorf("e-mail address %q: %v", e, err)
		}
		r.Email[i] = a.Address
	}
	if r.Webhook != "" {
		u, err := url.Parse(r.Webhook)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errors.New("the webhook must be an http(s) URL")
		}
		if r.Secret == "" {
			return errors.New("a webhook needs a secret to sign with (HMAC-SHA256)")
		}
	}
	if len(r.Email) == 0 && r.Webhook == "" {
		return errors.New("a rule needs e-mail recipients or a webhook")
	}
	if !r.OnNew && !r.OnResolved && r.EscalateAfter == 0 {
		return errors.New("a rule must tell of new, escalated or resolved alerts")
	}
	if r.EscalateAfter < 0 {
		return errors.New("escalate after must not be negative")
	}
	if (r.QuietFrom == "") != (r.QuietTo == "") {
		return errors.New("quiet hours need a start and an end")
	}
	for _, t := range []string{r.QuietFrom, r.QuietTo} {
		if _, ok := clockMinutes(t); t != "" && !ok {
			return fmt.Errorf("quiet hours %q: want HH:MM", t)
		}
	}
	return nil
}

// clockMinutes parses "HH:MM" into minutes after midnight.
func clockMinutes(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// quiet reports whether now (in loc) lies in r's quiet hours.
func (r Rule) quiet(now time.Time, loc *time.Location) bool {
	from, ok1 := clockMinutes(r.QuietFrom)
	to, ok2 := clockMinutes(r.QuietTo)
	if !ok1 || !ok2 || from == to {
		return false
	}
	l := now.In(loc)
	cur := l.Hour()*60 + l.Minute()
	if from < to {
		return cur >= from && cur < to
	}
	return cur >= from || cur < to // across midnight
}

// matches reports whether alert a (of a kiosk with tags) is r's.
func (r Rule) matches(a Alert, tags []string) bool {
	if r.Disabled || len(r.Kinds) > 0 && !slices.Contains(r.Kinds, a.Kind) {
		return false
	}
	if a.Kiosk == "" {
		return len(r.Sites) == 0 && len(r.Tags) == 0
	}
	site, _, _ := strings.Cut(a.Kiosk, "/")
	if len(r.Sites) > 0 && !slices.Contains(r.Sites, site) {
		return false
	}
	return len(r.Tags) == 0 || slices.ContainsFunc(r.Tags, func(t string) bool { return slices.Contains(tags, t) })
}

// SetRule creates (empty ID) or replaces a rule; an empty Secret on a
// replaced rule keeps the old one. Admins only.
func (m *Manager) SetRule(u User, r Rule) (RuleView, error) {
	if !u.Administers() {
		return RuleView{}, ErrNotAdmin
	}
	n := &m.ops.notify
	n.mu.Lock()
	if old, ok := n.rules[r.ID]; ok && r.Secret == "" {
		r.Secret = old.Secret
	} else if r.ID != "" && !ok {
		n.mu.Unlock()
		return RuleView{}, fmt.Errorf("no rule %s", r.ID)
	}
	n.mu.Unlock()
	if err := validRule(&r); err != nil {
		return RuleView{}, err
	}
	action := "rule_update"
	if r.ID == "" {
		r.ID, action = string(newID()), "rule_add"
	}
	now := m.opts.Now().UTC()
	r.By, r.Updated = u.Name, now
	if err := m.store.Write(Put(BucketRules, []byte(r.ID), r), m.auditOp(now, u.Name, action, "", r.ID+" "+r.Name)); err != nil {
		return RuleView{}, fmt.Errorf("set rule: %w", err)
	}
	n.mu.Lock()
	n.rules[r.ID] = r
	n.mu.Unlock()
	return r.view(), nil
}

// DeleteRule removes rule id. Admins only.
func (m *Manager) DeleteRule(u User, id string) error {
	if !u.Administers() {
		return ErrNotAdmin
	}
	n := &m.ops.notify
	n.mu.Lock()
	r, ok := n.rules[id]
	delete(n.rules, id)
	n.mu.Unlock()
	if !ok {
		return fmt.Errorf("no rule %s", id)
	}
	return m.store.Write(Del(BucketRules, []byte(id)), m.auditOp(m.opts.Now().UTC(), u.Name, "rule_delete", "", id+" "+r.Name))
}

// Rules lists the rules, by name. Admins only.
func (m *Manager) Rules(u User) ([]RuleView, error) {
	if !u.Administers() {
		return nil, ErrNotAdmin
	}
	n := &m.ops.notify
	n.mu.Lock()
	out := make([]RuleView, 0, len(n.rules))
	for _, r := range n.rules {
		out = append(out, r.view())
	}
	n.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// notifyTick compares the open alerts with what each rule has told and
// queues what is due.
func (m *Manager) notifyTick(now time.Time) {
	n := &m.ops.notify
	n.mu.Lock()
	if len(n.rules) == 0 && len(n.told) == 0 {
		n.mu.Unlock()
		return
	}
	n.mu.Unlock()
	alerts, _ := m.Alerts(0)
	tags := map[string][]string{}
	for _, a := range alerts {
		if _, ok := tags[a.Kiosk]; !ok && a.Kiosk != "" {
			k, _ := m.Kiosk(a.Kiosk)
			tags[a.Kiosk] = k.Tags
		}
	}
	var out []delivery
	var ops []Op
	n.mu.Lock()
	seen := map[string]bool{}
	for _, r := range n.rules {
		quiet := r.quiet(now, m.opts.Location)
		for _, a := range alerts {
			if !r.matches(a, tags[a.Kiosk]) {
				continue
			}
			t := &notified{Rule: r.ID, Kiosk: a.Kiosk, Kind: a.Kind, Since: a.Since}
			key := string(t.key())
			seen[key] = true
			if old := n.told[key]; old != nil {
				t = old
			}
			if quiet {
				continue
			}
			before := *t
			if r.OnNew && !t.New {
				out, t.New = append(out, m.deliveries(r, NotifyNew, a, now)...), true
			}
			if r.EscalateAfter > 0 && !a.Acked && !t.Escalated && now.Sub(a.Since) >= time.Duration(r.EscalateAfter) {
				out, t.Escalated = append(out, m.deliveries(r, NotifyEscalated, a, now)...), true
			}
			if *t != before {
				n.told[key] = t
				ops = append(ops, Put(BucketNotified, []byte(key), *t))
			}
		}
	}
	for key, t := range n.told {
		if seen[key] {
			continue
		}
		r, ok := n.rules[t.Rule]
		if ok && r.OnResolved && (t.New || t.Escalated) {
			if r.quiet(now, m.opts.Location) {
				continue // told when the quiet hours end
			}
			out = append(out, m.deliveries(r, NotifyResolved, Alert{Kiosk: t.Kiosk, Kind: t.Kind, Since: t.Since}, now)...)
		}
		delete(n.told, key)
		ops = append(ops, Del(BucketNotified, []byte(key)))
	}
	n.mu.Unlock()
	if len(ops) > 0 {
		if err := m.store.Write(ops...); err != nil {
			m.log.Error("fleetd notification state", "err", err)
		}
	}
	for _, d := range out {
		m.enqueueDelivery(d)
	}
}

// deliveries are the messages rule r sends for event on alert a: one per
// channel, so each is retried on its own.
func (m *Manager) deliveries(r Rule, event string, a Alert, now time.Time) []delivery {
	var out []delivery
	base := delivery{Rule: r, Event: event, Alert: a, At: now.UTC()}
	if len(r.Email) > 0 {
		d := base
		d.Channel = channelEmail
		out = append(out, d)
	}
	if r.Webhook != "" {
		d := base
		d.Channel = channelWebhook
		out = append(out, d)
	}
	return out
}

func (m *Manager) enqueueDelivery(d delivery) {
	select {
	case m.ops.notify.queue <- d:
	default:
		m.ops.notify.dropped.Add(1)
		m.log.Error("fleetd notification dropped: queue full", "rule", d.Rule.ID, "event", d.Event, "kind", string(d.Alert.Kind))
	}
}
