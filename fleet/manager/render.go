package manager

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

var funcs = template.FuncMap{
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		d := time.Since(t).Round(time.Second)
		switch {
		case d < time.Minute:
			return fmt.Sprintf("%ds ago", int(d.Seconds()))
		case d < time.Hour:
			return fmt.Sprintf("%dm ago", int(d.Minutes()))
		case d < 48*time.Hour:
			return fmt.Sprintf("%dh %dm ago", int(d.Hours()), int(d.Minutes())%60)
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"ts":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"count": func(m map[Status]int, s Status) int { return m[s] },
	"pct":   func(f float64) string { return fmt.Sprintf("%.0f %%", f) },
	"deref": func(f *float64) string {
		if f == nil {
			return "–"
		}
		return fmt.Sprintf("%.1f °C", *f)
	},
	"list":  func(s ...any) []any { return s },
	"has":   func(ss []string, s string) bool { return slices.Contains(ss, s) },
	"split": func(s string) []string { return strings.SplitN(s, "/", 2) },
	"join":  func(ss []string) string { return strings.Join(ss, " ") },
	// safeURL marks a data: URL fleetd made itself (a QR code) as safe.
	"safeURL": func(s string) template.URL { return template.URL(s) },
	"hasKind": func(ks []AlertKind, k AlertKind) bool { return slices.Contains(ks, k) },
	"dur2":    func(d Duration) time.Duration { return time.Duration(d) },
	"mins":    func(d Duration) int { return int(time.Duration(d) / time.Minute) },
	"tcount":  func(m map[TargetState]int, s string) int { return m[TargetState(s)] },
	"bars":    progressBars,
	"secs":    func(d time.Duration) string { return d.Round(time.Second).String() },
	"kind": func(k AlertKind) string {
		if k == AlertBrokerDown {
			return "broker unreachable"
		}
		return strings.ReplaceAll(string(k), "_", " ")
	},
	"f2":    func(f float64) string { return fmt.Sprintf("%.2f", f) },
	"gib":   func(b uint64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) },
	"title": func(s any) string { return strings.ReplaceAll(fmt.Sprint(s), "_", " ") },
	"dur":   func(s int64) string { return (time.Duration(s) * time.Second).String() },
	"isOp":  func(u User) bool { return u.Operates() },
	"png": func(b []byte) template.URL {
		return template.URL("data:image/png;base64," + b64(b))
	},
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Chart is one server-rendered SVG line chart of a health series.
type Chart struct {
	Title string
	Unit  string
	Path  string // SVG path, in a 600×120 box
	Min   string
	Max   string
	Last  string
	Empty bool
	From  string // start of the time axis
}

const chartW, chartH = 600.0, 120.0

func charts(hist []HealthSample, since, now time.Time) []Chart {
	series := []struct {
		title, unit string
		get         func(HealthSample) (float64, bool)
	}{
		{"CPU temperature", "°C", func(h HealthSample) (float64, bool) {
			if h.CPUTempC == nil {
				return 0, false
			}
			return *h.CPUTempC, true
		}},
		{"Load (1 min)", "", func(h HealthSample) (float64, bool) { return h.Load1, true }},
		{"Free on /perm", "%", func(h HealthSample) (float64, bool) { return h.PermFreePct, true }},
		{"Upstream latency", "ms", func(h HealthSample) (float64, bool) {
			return float64(h.Upstream.LastLatencyMS), h.Upstream.Reachable
		}},
		{"Outbox depth", "", func(h HealthSample) (float64, bool) { return float64(h.Outbox.Depth), true }},
	}
	var out []Chart
	if len(hist) > 0 && hist[0].TS.After(since) {
		since = hist[0].TS // a young kiosk: span its whole history
	}
	span := max(now.Sub(since).Seconds(), 1)
	for _, s := range series {
		c := Chart{Title: s.title, Unit: s.unit, From: since.UTC().Format("15:04")}
		lo, hi := math.Inf(1), math.Inf(-1)
		type pt struct{ x, y float64 }
		var pts []pt
		for _, h := range hist {
			v, ok := s.get(h)
			if !ok {
				continue
			}
			lo, hi = min(lo, v), max(hi, v)
			pts = append(pts, pt{h.TS.Sub(since).Seconds() / span * chartW, v})
		}
		if len(pts) == 0 {
			c.Empty = true
			out = append(out, c)
			continue
		}
		if hi-lo < 1e-9 {
			hi = lo + 1
		}
		var b strings.Builder
		for i, p := range pts {
			y := chartH - 8 - (p.y-lo)/(hi-lo)*(chartH-16)
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&b, "%s%.1f %.1f ", cmd, p.x, y)
		}
		c.Path = b.String()
		c.Min, c.Max, c.Last = num(lo), num(hi), num(pts[len(pts)-1].y)
		out = append(out, c)
	}
	return out
}

func num(f float64) string {
	if f == math.Trunc(f) {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.1f", f)
}

// bar is one segment of a job's progress bar, in percent of its width.
type bar struct {
	State TargetState
	X, W  string
}

// progressBars lays a job's targets out along a bar: done first, then
// sent, then waiting. An SVG's attributes, not styles: the console's
// Content-Security-Policy allows no inline style.
func progressBars(counts map[TargetState]int, total int) []bar {
	if total <= 0 {
		return nil
	}
	var out []bar
	x := 0.0
	for _, s := range []TargetState{TargetOK, TargetRefused, TargetFailed, TargetRejected, TargetExpired, TargetCancelled, TargetSent, TargetWaiting} {
		if n := counts[s]; n > 0 {
			w := float64(n) / float64(total) * 100
			out = append(out, bar{s, fmt.Sprintf("%.2f", x), fmt.Sprintf("%.2f", w)})
			x += w
		}
	}
	return out
}
