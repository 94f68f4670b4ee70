package manager

import (
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Site names as operators write them (issue 19): a site's id is what the
// kiosks' topics carry ("taipei-branch"); its name is what people call it
// ("臺北業務組"), kept exactly as written and shown beside the id.

// BucketSites holds site names: site id → SiteInfo.
var BucketSites = Bucket("sites")

// SiteInfo is a site's name.
type SiteInfo struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	By      string    `json:"by,omitempty"`
	Updated time.Time `json:"updated,omitzero"`
}

type siteNames struct {
	mu    sync.RWMutex
	names map[string]string
}

// MaxSiteName bounds a site's name, in characters.
const MaxSiteName = 80

func (m *Manager) loadSites() error {
	m.ops.sites.names = map[string]string{}
	return EachJSON(m.store, BucketSites, nil, func(_ []byte, s SiteInfo) error {
		m.ops.sites.names[s.ID] = s.Name
		return nil
	})
}

// SiteName is site's name, or "" if it has none.
func (m *Manager) SiteName(site string) string {
	m.ops.sites.mu.RLock()
	defer m.ops.sites.mu.RUnlock()
	return m.ops.sites.names[site]
}

// SiteNames returns every named site's name.
func (m *Manager) SiteNames() map[string]string {
	m.ops.sites.mu.RLock()
	defer m.ops.sites.mu.RUnlock()
	out := make(map[string]string, len(m.ops.sites.names))
	for k, v := range m.ops.sites.names {
		out[k] = v
	}
	return out
}

// validSiteName checks a name as written: any script, no control
// characters, at most MaxSiteName characters. Only surrounding space is
// trimmed; nothing else is changed.
func validSiteName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxSiteName {
		return "", fmt.Errorf("a site name is at most %d characters of valid UTF-8", MaxSiteName)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return "", fmt.Errorf("a site name is one line without control characters")
		}
	}
	return name, nil
}

// SetSiteName names site ("" removes its name); operators and admins may,
// for sites they may act on.
func (m *Manager) SetSiteName(u User, site, name string) error {
	if !u.Operates() {
		return ErrNotOperator
	}
	if !u.MaySee(site) {
		return ErrNotYourSite
	}
	if _, err := validSites([]string{site}); err != nil {
		return err
	}
	name, err := validSiteName(name)
	if err != nil {
		return err
	}
	now := m.opts.Now().UTC()
	op := Put(BucketSites, []byte(site), SiteInfo{ID: site, Name: name, By: u.Name, Updated: now})
	if name == "" {
		op = Del(BucketSites, []byte(site))
	}
	if err := m.store.Write(op, m.auditOp(now, u.Name, "site_name", "", site+" "+name)); err != nil {
		return fmt.Errorf("name site: %w", err)
	}
	m.ops.sites.mu.Lock()
	if name == "" {
		delete(m.ops.sites.names, site)
	} else {
		m.ops.sites.names[site] = name
	}
	m.ops.sites.mu.Unlock()
	m.hub.publish("", changeFleet)
	return nil
}
