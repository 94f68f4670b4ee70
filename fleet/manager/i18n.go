package manager

import (
	"fmt"
	"html/template"
	"strings"
	"time"
	_ "time/tzdata" // Asia/Taipei on any host, tzdata package or not
)

// The console speaks Traditional Chinese (the default) and English, per
// user (issue 19). Templates write English and translate it with
// {{t "…"}}; messages_zh.go holds the Traditional Chinese, and a test
// keeps every string the templates use translated. Times are shown in the
// console's time zone (Options.Location, Asia/Taipei by default).

// DefaultTimeZone is the console's time zone unless told otherwise.
const DefaultTimeZone = "Asia/Taipei"

func defaultLocation() *time.Location {
	loc, err := time.LoadLocation(DefaultTimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// catalog is one language's messages.
type catalog struct {
	lang string
	msgs map[string]string // English → this language; nil for English
}

var catalogs = map[string]*catalog{
	"en":    {lang: "en"},
	"zh-TW": {lang: "zh-TW", msgs: zhTW},
}

func catalogFor(lang string) *catalog {
	if c := catalogs[lang]; c != nil {
		return c
	}
	return catalogs[ConsoleLanguages[0]]
}

// t translates key, then formats it with args (fmt verbs).
func (c *catalog) t(key string, args ...any) string {
	s := key
	if c.msgs != nil {
		if v, ok := c.msgs[key]; ok {
			s = v
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// word translates a machine word ("maintenance_on") through its English
// form ("maintenance on").
func (c *catalog) word(w string) string {
	return c.t(strings.ReplaceAll(w, "_", " "))
}

func (c *catalog) kind(k string) string {
	switch AlertKind(k) {
	case AlertBrokerDown:
		return c.t("broker unreachable")
	case AlertConfigDrift:
		return c.t("configuration drift")
	}
	return c.word(k)
}

// zoneName names loc for people: "台北時間", "Taipei time", or its name.
func (c *catalog) zoneName(loc *time.Location) string {
	if loc.String() == DefaultTimeZone {
		return c.t("Taipei time")
	}
	return loc.String()
}

func (c *catalog) ago(t, now time.Time, loc *time.Location) string {
	if t.IsZero() {
		return c.t("never")
	}
	d := now.Sub(t).Round(time.Second)
	switch {
	case d < 0:
		return c.t("in %s", (-d).String())
	case d < time.Minute:
		return c.t("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return c.t("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return c.t("%dh %dm ago", int(d.Hours()), int(d.Minutes())%60)
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// duration writes d in words of this language ("1h30m", "1 小時 30 分").
func (c *catalog) duration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	var parts []string
	if h > 0 {
		parts = append(parts, c.t("%d h", h))
	}
	if m > 0 {
		parts = append(parts, c.t("%d min", m))
	}
	if s > 0 || len(parts) == 0 {
		parts = append(parts, c.t("%d s", s))
	}
	return strings.Join(parts, " ")
}

// langFuncs are the template functions of one language and time zone.
func (w *Web) langFuncs(lang string) template.FuncMap {
	c := catalogFor(lang)
	loc := w.m.opts.Location
	now := w.m.opts.Now
	return template.FuncMap{
		"t":    c.t,
		"lang": func() string { return c.lang },
		"htmlLang": func() string {
			if c.lang == "zh-TW" {
				return "zh-Hant-TW"
			}
			return "en"
		},
		"ago":    func(t time.Time) string { return c.ago(t, now(), loc) },
		"ts":     func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05") },
		"hm":     func(t time.Time) string { return t.In(loc).Format("01-02 15:04") },
		"tz":     func() string { return c.zoneName(loc) },
		"kind":   func(k AlertKind) string { return c.kind(string(k)) },
		"status": func(s Status) string { return c.word(string(s)) },
		"word":   func(s any) string { return c.word(fmt.Sprint(s)) },
		"title":  func(s any) string { return c.word(fmt.Sprint(s)) },
		"until":  func(t time.Time) string { return c.duration(t.Sub(now())) },
		"dur":    func(s int64) string { return c.duration(time.Duration(s) * time.Second) },
		"secs":   func(d time.Duration) string { return c.duration(d) },
		"site":   w.m.SiteName,
		"siteLabel": func(site string) string {
			if n := w.m.SiteName(site); n != "" {
				return n + " (" + site + ")"
			}
			return site
		},
	}
}
