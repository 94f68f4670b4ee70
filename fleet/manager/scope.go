package manager

import (
	"encoding/json"
	"strings"
)

// What a user restricted to some sites sees (issue 19): only their sites'
// kiosks, alerts, jobs and audit entries. Fleet-wide alerts (the broker)
// concern everyone.

// AlertsFor is Alerts for the sites u may see.
func (m *Manager) AlertsFor(u User, limit int) ([]Alert, int) {
	all, _ := m.Alerts(0)
	out := all[:0]
	for _, a := range all {
		if site, _, _ := strings.Cut(a.Kiosk, "/"); u.MaySee(site) {
			out = append(out, a)
		}
	}
	total := len(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, total
}

// AuditFor is Audit for u: a user restricted to some sites sees the
// entries about their kiosks and their own actions.
func (m *Manager) AuditFor(u User, limit int) ([]AuditEntry, error) {
	if u.AllSites() {
		return m.Audit(limit)
	}
	var out []AuditEntry
	err := m.store.Last(BucketAudit, func(_, v []byte) bool {
		var a AuditEntry
		if json.Unmarshal(v, &a) == nil {
			site, _, _ := strings.Cut(a.Kiosk, "/")
			if a.User == u.Name || a.Kiosk != "" && u.MaySee(site) {
				out = append(out, a)
			}
		}
		return limit <= 0 || len(out) < limit
	})
	return out, err
}

// mayWatch reports whether u may follow live updates of watch.
func (w *Web) mayWatch(u User, watch string) bool {
	switch {
	case watch == WatchFleet, watch == WatchAlerts, watch == WatchJobs:
		return true
	case strings.HasPrefix(watch, "job:"):
		_, ok := w.m.JobFor(u, strings.TrimPrefix(watch, "job:"))
		return ok
	}
	site, _, _ := strings.Cut(watch, "/")
	return u.MaySee(site)
}
