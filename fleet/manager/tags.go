package manager

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Groups are tags on kiosks (issue 19): "region:north", "type:hospital-lobby",
// "pilot:wave-1", or a bare "pilot". A kiosk is in every group it carries
// the tag of; the console and the API filter, count and act on a group,
// and a group can have a layer of central configuration.

var tagRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}(:[\p{L}\p{N}._-]{1,64})?$`)

// MaxTags bounds the tags of one kiosk.
const MaxTags = 16

// MaxTagBatch bounds the kiosks one SetTags call changes.
const MaxTagBatch = 5000

// ValidTag reports whether t is a tag: a key (lower-case letters, digits,
// '-') and optionally ':' and a value (letters of any script, digits, . _ -).
func ValidTag(t string) bool { return tagRE.MatchString(t) }

// SetTags adds and removes tags on kiosks names; it returns how many
// kiosks changed. Each change is written and audited at once.
func (m *Manager) SetTags(u User, names, add, remove []string) (int, error) {
	if !u.Operates() {
		return 0, ErrNotOperator
	}
	if len(names) == 0 || len(names) > MaxTagBatch {
		return 0, fmt.Errorf("tag: %d kiosks, want 1–%d", len(names), MaxTagBatch)
	}
	for _, t := range append(slices.Clone(add), remove...) {
		if !ValidTag(t) {
			return 0, fmt.Errorf("tag %q: want key or key:value (key: a-z 0-9 -, value: letters, digits, . _ -)", t)
		}
	}
	now := m.opts.Now().UTC()
	var ops []Op
	var changed []string
	m.mu.Lock()
	for _, n := range names {
		k := m.kiosks[n]
		if k == nil {
			m.mu.Unlock()
			return 0, fmt.Errorf("tag %s: %w", n, errUnknownKiosk)
		}
		if !u.MaySee(k.Ref.Site) {
			m.mu.Unlock()
			return 0, fmt.Errorf("tag %s: %w", n, ErrNotYourSite)
		}
	}
	for _, n := range names {
		k := m.kiosks[n]
		tags := slices.DeleteFunc(slices.Clone(k.Tags), func(t string) bool { return slices.Contains(remove, t) })
		tags = append(tags, add...)
		sort.Strings(tags)
		tags = slices.Compact(tags)
		if len(tags) > MaxTags {
			m.mu.Unlock()
			return 0, fmt.Errorf("tag %s: at most %d tags on a kiosk", n, MaxTags)
		}
		if slices.Equal(tags, k.Tags) {
			continue
		}
		k.Tags = tags
		changed = append(changed, n)
		ops = append(ops, Put(BucketKiosks, []byte(n), k.snapshot()),
			m.auditOp(now, u.Name, "tag", n, strings.Join(tags, " ")))
	}
	m.mu.Unlock()
	if len(ops) == 0 {
		return 0, nil
	}
	if err := m.store.Write(ops...); err != nil {
		return 0, fmt.Errorf("tag: record: %w", err)
	}
	for _, n := range changed {
		m.hub.publish(n, changeView)
	}
	m.configChangedSoon() // a group's configuration may now apply
	return len(changed), nil
}

// GroupInfo is one group and how its kiosks are.
type GroupInfo struct {
	Tag    string         `json:"tag"`
	Total  int            `json:"total"`
	By     map[Status]int `json:"by_status"`
	Config bool           `json:"config"` // the group has a configuration layer
}

// Groups lists every group with kiosks u may see, by tag.
func (m *Manager) Groups(u User) []GroupInfo {
	byTag := map[string]*GroupInfo{}
	m.mu.RLock()
	for _, k := range m.kiosks {
		if !u.MaySee(k.Ref.Site) {
			continue
		}
		for _, t := range k.Tags {
			g := byTag[t]
			if g == nil {
				g = &GroupInfo{Tag: t, By: map[Status]int{}}
				byTag[t] = g
			}
			g.Total++
			g.By[k.Status]++
		}
	}
	m.mu.RUnlock()
	layers := m.ConfigLayers()
	out := make([]GroupInfo, 0, len(byTag))
	for _, g := range byTag {
		_, g.Config = layers[groupScope(g.Tag)]
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tag < out[j].Tag })
	return out
}

// selectKiosks resolves a selection (names, or a filter) to kiosk names u
// may act on. Names outside u's sites are refused; a filter is resolved
// within them.
func (m *Manager) selectKiosks(u User, names []string, f Filter) ([]string, error) {
	if len(names) > 0 {
		for _, n := range names {
			k, ok := m.Kiosk(n)
			if !ok {
				return nil, fmt.Errorf("%s: %w", n, errUnknownKiosk)
			}
			if !u.MaySee(k.Ref.Site) {
				return nil, fmt.Errorf("%s: %w", n, ErrNotYourSite)
			}
		}
		sorted := slices.Clone(names)
		sort.Strings(sorted)
		return slices.Compact(sorted), nil
	}
	if f.Site == "" && len(f.Tags) == 0 && f.Status == "" && f.Query == "" {
		return nil, errors.New("select kiosks: name them, or a group, site or status")
	}
	f.Sites = u.Sites
	page, _, _ := m.KioskPage(f, "", 0)
	out := make([]string, len(page))
	for i, k := range page {
		out[i] = k.Name
	}
	return out, nil
}
