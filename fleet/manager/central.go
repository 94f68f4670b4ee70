package manager

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
)

// Central configuration (issue 19): a desired configuration per fleet,
// group and kiosk, layered (the fleet's, then each group's in rank order,
// then the kiosk's; a later layer wins field by field), checked by
// config's own rules before it is accepted, and sent to each kiosk as a
// signed apply_config. A kiosk checks it over its own config.json, runs it
// between sessions and reports its hash; one that does not run what
// fleetd wants drifts, visibly and with an alert. Only managed fields
// (config.Managed) can be set: never identity, file paths or secrets.

// BucketConfig holds configuration layers: scope → ConfigLayer.
var BucketConfig = Bucket("config")

// ConfigDriftAfter is how long a reachable kiosk may not run its desired
// configuration before it alerts (a refusal alerts at once).
const ConfigDriftAfter = 15 * time.Minute

// configSendsPerTick bounds the apply_config commands one tick sends.
const configSendsPerTick = 200

// Scopes of configuration layers.
const (
	ScopeFleet       = "fleet"
	scopeGroupPrefix = "group:"
	scopeKioskPrefix = "kiosk:"
)

func groupScope(tag string) string  { return scopeGroupPrefix + tag }
func kioskScope(name string) string { return scopeKioskPrefix + name }

// ConfigLayer is one layer of desired configuration.
type ConfigLayer struct {
	Scope string `json:"scope"` // "fleet", "group:<tag>" or "kiosk:<site/kiosk>"
	// Rank orders group layers (lower first, then by tag): a kiosk in
	// several groups takes the later one's value.
	Rank    int             `json:"rank,omitempty"`
	Config  json.RawMessage `json:"config"`
	By      string          `json:"by"`
	Updated time.Time       `json:"updated"`
	overlay config.Overlay
}

// Configuration states of a kiosk (Kiosk.ConfigState).
const (
	ConfigUnmanaged = "unmanaged" // no layer applies to it
	ConfigInSync    = "in_sync"   // it runs what fleetd wants
	ConfigPending   = "pending"   // it accepted it and runs it once no session is in progress
	ConfigRefused   = "refused"   // it refused it (invalid for it, or unsupported)
	ConfigDrift     = "drift"     // it does not run it yet: not reached, not answered
)

// ConfigStates lists the states, for filters.
var ConfigStates = []string{ConfigInSync, ConfigPending, ConfigDrift, ConfigRefused, ConfigUnmanaged}

// ConfigStatus is what fleetd knows of a kiosk's central configuration.
type ConfigStatus struct {
	// Desired is the hash of the configuration fleetd wants the kiosk to
	// run ("" when no layer applies).
	Desired string `json:"desired,omitempty"`
	// Acked is the hash the kiosk answered its last apply_config with.
	Acked string `json:"acked,omitempty"`
	// Refused is the desired hash the kiosk refused, Reason why, and
	// RefusedBoot the boot that refused it (a restarted kiosk is asked
	// again).
	Refused     string    `json:"refused,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Field       string    `json:"field,omitempty"` // the field it found wrong
	RefusedBoot time.Time `json:"refused_boot,omitzero"`
	// Sent is the last apply_config, SentFor the hash it carried.
	Sent    fleet.Token `json:"sent,omitempty"`
	SentFor string      `json:"sent_for,omitempty"`
	SentAt  time.Time   `json:"sent_at,omitzero"`
	// DriftSince is when the kiosk was first seen not running Desired.
	DriftSince time.Time `json:"drift_since,omitzero"`
}

// ReportedConfig is the configuration hash the kiosk says it runs.
func (k Kiosk) ReportedConfig() string {
	if k.Birth == nil {
		return ""
	}
	return string(k.Birth.ConfigHash)
}

// ConfigState is where the kiosk's central configuration stands.
func (k Kiosk) ConfigState() string {
	c := k.Config
	switch {
	case c.Desired == "":
		return ConfigUnmanaged
	case k.ReportedConfig() == c.Desired:
		return ConfigInSync
	case c.Refused == c.Desired:
		return ConfigRefused
	case c.Acked == c.Desired:
		return ConfigPending
	}
	return ConfigDrift
}

type configTable struct {
	mu     sync.RWMutex
	layers map[string]ConfigLayer
	// idle: the last pass found no layer and left no kiosk managed, so
	// passes can stop until a layer is set.
	idle bool
}

// configEvery is every how many ticks the configuration is reckoned
// without a kick (a layer, a tag, an answer): drift is counted in
// minutes, and a kiosk back online is sent its configuration within
// seconds.
const configEvery = 5

func (m *Manager) loadConfigLayers() error {
	m.ops.cfg.layers = map[string]ConfigLayer{}
	return EachJSON(m.store, BucketConfig, nil, func(_ []byte, l ConfigLayer) error {
		o, err := config.ParseOverlay(l.Config)
		if err != nil {
			m.log.Error("fleetd configuration layer unreadable", "scope", l.Scope, "err", err)
			return nil
		}
		l.overlay = o
		m.ops.cfg.layers[l.Scope] = l
		return nil
	})
}

// ConfigLayers returns every layer, by scope.
func (m *Manager) ConfigLayers() map[string]ConfigLayer {
	m.ops.cfg.mu.RLock()
	defer m.ops.cfg.mu.RUnlock()
	out := make(map[string]ConfigLayer, len(m.ops.cfg.layers))
	for k, v := range m.ops.cfg.layers {
		out[k] = v
	}
	return out
}

// ConfigLayer returns the layer of scope.
func (m *Manager) ConfigLayer(scope string) (ConfigLayer, bool) {
	m.ops.cfg.mu.RLock()
	defer m.ops.cfg.mu.RUnlock()
	l, ok := m.ops.cfg.layers[scope]
	return l, ok
}

// layersFor are the layers that apply to a kiosk with name and tags, in
// order (later wins).
func layersFor(layers map[string]ConfigLayer, name string, tags []string) []ConfigLayer {
	var out []ConfigLayer
	if l, ok := layers[ScopeFleet]; ok {
		out = append(out, l)
	}
	var groups []ConfigLayer
	for _, t := range tags {
		if l, ok := layers[groupScope(t)]; ok {
			groups = append(groups, l)
		}
	}
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].Rank != groups[j].Rank {
			return groups[i].Rank < groups[j].Rank
		}
		return groups[i].Scope < groups[j].Scope
	})
	out = append(out, groups...)
	if l, ok := layers[kioskScope(name)]; ok {
		out = append(out, l)
	}
	return out
}

func merge(ls []ConfigLayer) config.Overlay {
	o := config.Overlay{}
	for _, l := range ls {
		o = o.Merge(l.overlay)
	}
	return o
}

// DesiredConfig is the configuration fleetd wants kiosk name to run and
// the layers it comes from; ok is false when no layer applies.
func (m *Manager) DesiredConfig(name string) (config.Overlay, []ConfigLayer, bool) {
	k, found := m.Kiosk(name)
	if !found {
		return nil, nil, false
	}
	m.ops.cfg.mu.RLock()
	ls := layersFor(m.ops.cfg.layers, name, k.Tags)
	m.ops.cfg.mu.RUnlock()
	if len(ls) == 0 {
		return nil, nil, false
	}
	return merge(ls), ls, true
}

// ErrBadScope is returned for a scope that is not fleet, group:TAG or
// kiosk:SITE/KIOSK.
var ErrBadScope = errors.New(`scope must be "fleet", "group:TAG" or "kiosk:SITE/KIOSK"`)

// checkScope validates scope and whether u may configure it.
func (m *Manager) checkScope(u User, scope string) error {
	switch {
	case !u.Operates():
		return ErrNotOperator
	case scope == ScopeFleet:
		if !u.AllSites() {
			return fmt.Errorf("the fleet's configuration: %w", ErrNotYourSite)
		}
	case strings.HasPrefix(scope, scopeGroupPrefix):
		if !ValidTag(strings.TrimPrefix(scope, scopeGroupPrefix)) {
			return ErrBadScope
		}
		if !u.AllSites() {
			return fmt.Errorf("a group's configuration reaches every site: %w", ErrNotYourSite)
		}
	case strings.HasPrefix(scope, scopeKioskPrefix):
		ref, err := fleet.ParseKioskRef(strings.TrimPrefix(scope, scopeKioskPrefix))
		if err != nil {
			return ErrBadScope
		}
		if !u.MaySee(ref.Site) {
			return ErrNotYourSite
		}
	default:
		return ErrBadScope
	}
	return nil
}

// SetConfigLayer sets (doc non-empty) or removes (doc empty) the layer of
// scope. The layer is refused unless it parses as a central configuration
// and every combination of layers it takes part in passes config's rules
// over config.Reference (what -check-config checks, on a kiosk whose own
// fields are all fine); the problems are returned with their field paths.
func (m *Manager) SetConfigLayer(u User, scope string, rank int, doc []byte) error {
	if err := m.checkScope(u, scope); err != nil {
		return err
	}
	now := m.opts.Now().UTC()
	if len(strings.TrimSpace(string(doc))) == 0 {
		m.ops.cfg.mu.Lock()
		_, had := m.ops.cfg.layers[scope]
		delete(m.ops.cfg.layers, scope)
		m.ops.cfg.mu.Unlock()
		if !had {
			return nil
		}
		if err := m.store.Write(Del(BucketConfig, []byte(scope)), m.auditOp(now, u.Name, "config_remove", scopeKiosk(scope), scope)); err != nil {
			return fmt.Errorf("remove configuration: %w", err)
		}
		m.configChangedSoon()
		return nil
	}
	o, err := config.ParseOverlay(doc)
	if err != nil {
		return err
	}
	l := ConfigLayer{Scope: scope, Rank: rank, Config: o.JSON(), By: u.Name, Updated: now, overlay: o}
	if err := m.checkLayer(l); err != nil {
		return err
	}
	m.ops.cfg.mu.Lock()
	m.ops.cfg.layers[scope] = l
	m.ops.cfg.idle = false
	m.ops.cfg.mu.Unlock()
	if err := m.store.Write(Put(BucketConfig, []byte(scope), l),
		m.auditOp(now, u.Name, "config_set", scopeKiosk(scope), scope+" "+o.Hash()+" "+string(l.Config))); err != nil {
		return fmt.Errorf("set configuration: %w", err)
	}
	m.log.Info("fleetd configuration layer set", "user", u.Name, "scope", scope, "config_hash", o.Hash())
	m.configChangedSoon()
	return nil
}

// scopeKiosk is the kiosk a scope names, for the audit entry.
func scopeKiosk(scope string) string {
	if n, ok := strings.CutPrefix(scope, scopeKioskPrefix); ok {
		return n
	}
	return ""
}

// ConfigProblem is a layer that fails config's rules in one combination.
type ConfigProblem struct {
	Kiosk    string // a kiosk the combination applies to ("" for none yet)
	Problems config.Problems
}

func (e *ConfigProblem) Error() string {
	where := "on its own"
	if e.Kiosk != "" {
		where = "for " + e.Kiosk
	}
	return "configuration invalid " + where + ":\n" + e.Problems.Error()
}

func (e *ConfigProblem) Unwrap() error { return e.Problems }

// checkLayer applies every distinct combination of layers that l takes
// part in to config.Reference.
func (m *Manager) checkLayer(l ConfigLayer) error {
	layers := m.ConfigLayers()
	layers[l.Scope] = l
	check := func(kiosk string, ls []ConfigLayer) error {
		_, err := merge(ls).Apply(config.Reference())
		var ps config.Problems
		if errors.As(err, &ps) {
			return &ConfigProblem{Kiosk: kiosk, Problems: ps}
		}
		return err
	}
	if err := check("", []ConfigLayer{l}); err != nil {
		return err
	}
	if f, ok := layers[ScopeFleet]; ok && l.Scope != ScopeFleet {
		if err := check("", []ConfigLayer{f, l}); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	m.mu.RLock()
	type combo struct {
		kiosk string
		ls    []ConfigLayer
	}
	var combos []combo
	for name, k := range m.kiosks {
		ls := layersFor(layers, name, k.Tags)
		if !slices.ContainsFunc(ls, func(x ConfigLayer) bool { return x.Scope == l.Scope }) {
			continue
		}
		key := ""
		for _, x := range ls {
			key += x.Scope + "\x00"
		}
		if !seen[key] {
			seen[key] = true
			combos = append(combos, combo{name, ls})
		}
	}
	m.mu.RUnlock()
	for _, c := range combos {
		if err := check(c.kiosk, c.ls); err != nil {
			return err
		}
	}
	return nil
}

// configSend is one apply_config a tick sends.
type configSend struct {
	kiosk string
	hash  string
	doc   config.Overlay
}

// reconcileConfig works out every kiosk's desired configuration, raises
// and clears drift alerts, and sends apply_config to reachable kiosks that
// do not run what fleetd wants and have not answered for it yet. It reads
// the fleet under the read lock and takes the write lock only for the
// kiosks that change, so the message path is not held up.
func (m *Manager) reconcileConfig(now time.Time) {
	m.ops.cfg.mu.RLock()
	layers := m.ops.cfg.layers
	if len(layers) == 0 && m.ops.cfg.idle {
		m.ops.cfg.mu.RUnlock()
		return
	}
	// Kiosks share few combinations of layers: merge and hash each once.
	type merged struct {
		o    config.Overlay
		hash string
	}
	cache := map[string]merged{}
	var sends []configSend
	type update struct{ name, desired string }
	var updates []update
	var key []byte
	_, fleetLayer := layers[ScopeFleet]
	m.mu.RLock()
	for name, k := range m.kiosks {
		desired := ""
		// The layers a kiosk takes are named by its tags that have one
		// and its own: a key found without building them.
		key = key[:0]
		for _, t := range k.Tags {
			if _, ok := layers[scopeGroupPrefix+t]; ok {
				key = append(append(key, t...), 0)
			}
		}
		_, own := layers[scopeKioskPrefix+name]
		if own {
			key = append(append(key, 1), name...)
		}
		if fleetLayer || len(key) > 0 {
			mg, ok := cache[string(key)]
			if !ok {
				o := merge(layersFor(layers, name, k.Tags))
				mg = merged{o, o.Hash()}
				cache[string(key)] = mg
			}
			desired = mg.hash
			if len(sends) < configSendsPerTick && needsConfig(k, desired, now) {
				sends = append(sends, configSend{name, desired, mg.o})
			}
		}
		if c, drift := k.wantConfig(desired, now); c != k.Config || drift != (k.alert(AlertConfigDrift) != nil) {
			updates = append(updates, update{name, desired})
		}
	}
	m.mu.RUnlock()
	m.ops.cfg.mu.RUnlock()
	if len(layers) == 0 && len(updates) == 0 {
		m.ops.cfg.mu.Lock()
		m.ops.cfg.idle = len(m.ops.cfg.layers) == 0
		m.ops.cfg.mu.Unlock()
	}
	var changed []string
	if len(updates) > 0 {
		m.mu.Lock()
		for _, u := range updates {
			if k := m.kiosks[u.name]; k != nil && m.configChanged(k, u.desired, now) {
				changed = append(changed, u.name)
			}
		}
		m.mu.Unlock()
	}
	for _, s := range sends {
		m.sendConfig(s, now)
	}
	for _, n := range changed {
		m.hub.publish(n, changeView|changeAlerts)
	}
}

// needsConfig reports whether kiosk k should be sent desired now; m.mu is
// held (for reading).
func needsConfig(k *Kiosk, desired string, now time.Time) bool {
	c := k.Config
	switch {
	case !reachable(k), k.ReportedConfig() == desired, c.Acked == desired:
		return false
	case c.Refused == desired && k.Birth != nil && k.Birth.BootTime.Equal(c.RefusedBoot):
		return false // refused by this boot: ask again only after a restart
	case c.SentFor == desired && now.Before(c.SentAt.Add(CommandLifetime+answerGrace)):
		return false // waiting for its answer
	}
	return true
}

// wantConfig is k's configuration state with desired at now, and whether
// it should have the drift alert; it changes nothing.
func (k *Kiosk) wantConfig(desired string, now time.Time) (ConfigStatus, bool) {
	c := k.Config
	if c.Desired != desired {
		c.Desired, c.DriftSince = desired, time.Time{}
	}
	kk := Kiosk{Birth: k.Birth, Config: c}
	state := kk.ConfigState()
	switch state {
	case ConfigUnmanaged, ConfigInSync:
		c.DriftSince = time.Time{}
		return c, false
	}
	if c.DriftSince.IsZero() {
		c.DriftSince = now.UTC()
	}
	if state == ConfigRefused || reachable(k) && now.Sub(c.DriftSince) > ConfigDriftAfter {
		return c, true
	}
	// Keep an alert raised until the kiosk runs what fleetd wants.
	return c, k.alert(AlertConfigDrift) != nil
}

// configChanged updates k's desired hash and drift alert; it reports
// whether anything changed. m.mu is held.
func (m *Manager) configChanged(k *Kiosk, desired string, now time.Time) bool {
	before, alerts := k.Config, k.alertBits()
	c, drift := k.wantConfig(desired, now)
	k.Config = c
	if (k.alert(AlertConfigDrift) != nil) != drift {
		k.setAlert(AlertConfigDrift, drift, now.UTC())
		k.evaluate(now, m.hearingLocked(k), m.lv)
	}
	if k.Config != before || k.alertBits() != alerts {
		m.dirty[k.Name] = struct{}{}
		return true
	}
	return false
}

// sendConfig sends one kiosk its desired configuration.
func (m *Manager) sendConfig(s configSend, now time.Time) {
	ref, _ := fleet.ParseKioskRef(s.kiosk)
	c := fleet.Command{Site: ref.Site, Kiosk: ref.Kiosk, Name: fleet.CmdApplyConfig, Config: s.doc.JSON(),
		Issued: now.UTC(), Expires: now.UTC().Add(CommandLifetime)}
	rec, err := m.signAndSend(c, CommandRecord{By: "fleetd (configuration " + s.hash + ")"})
	m.mu.Lock()
	if k := m.kiosks[s.kiosk]; k != nil {
		k.Config.SentFor, k.Config.SentAt = s.hash, now.UTC()
		if err == nil {
			k.Config.Sent = rec.ID
		}
		m.dirty[s.kiosk] = struct{}{}
	}
	m.mu.Unlock()
	if err != nil {
		m.log.Warn("fleetd send configuration", "kiosk", s.kiosk, "err", err)
	}
}

// configAck records a kiosk's answer to apply_config.
func (m *Manager) configAck(r CommandRecord) {
	a := r.Ack
	now := m.opts.Now()
	m.mu.Lock()
	k := m.kiosks[r.Kiosk]
	if k == nil || k.Config.Sent != r.ID {
		m.mu.Unlock()
		return
	}
	switch {
	case a.Status == fleet.AckOK:
		k.Config.Acked, k.Config.Refused, k.Config.Reason, k.Config.Field = string(a.ConfigHash), "", "", ""
	case a.Status == fleet.AckRefused && (a.Reason == fleet.ReasonInvalidConfig || a.Reason == fleet.ReasonUnsupported):
		k.Config.Refused, k.Config.Reason, k.Config.Field = k.Config.SentFor, string(a.Reason), string(a.ConfigField)
		if k.Birth != nil {
			k.Config.RefusedBoot = k.Birth.BootTime
		}
	default:
		// Failed or rejected: asked again once the command's time is up.
		k.Config.Reason = string(a.Status) + " " + string(a.Reason) + string(a.Reject)
	}
	changed := m.configChanged(k, k.Config.Desired, now)
	m.dirty[r.Kiosk] = struct{}{}
	m.mu.Unlock()
	if changed {
		m.hub.publish(r.Kiosk, changeView|changeAlerts)
	}
	m.configChangedSoon()
}

// ConfigCounts counts u's kiosks by configuration state.
func (m *Manager) ConfigCounts(u User) map[string]int {
	out := map[string]int{}
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, k := range m.kiosks {
		if u.MaySee(k.Ref.Site) {
			out[k.ConfigState()]++
		}
	}
	return out
}
