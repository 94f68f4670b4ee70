package manager

import (
	"testing"
	"time"
)

func TestQuietHours(t *testing.T) {
	taipei := defaultLocation()
	at := func(hm string) time.Time {
		t, _ := time.ParseInLocation("2006-01-02 15:04", "2026-11-27 "+hm, taipei)
		return t
	}
	for _, tt := range []struct {
		from, to, now string
		quiet         bool
	}{
		{"22:00", "07:00", "23:30", true},
		{"22:00", "07:00", "06:59", true},
		{"22:00", "07:00", "07:00", false},
		{"22:00", "07:00", "12:00", false},
		{"12:00", "13:30", "12:45", true},
		{"12:00", "13:30", "13:30", false},
		{"", "", "03:00", false},
	} {
		r := Rule{QuietFrom: tt.from, QuietTo: tt.to}
		if got := r.quiet(at(tt.now).UTC(), taipei); got != tt.quiet {
			t.Errorf("quiet %s–%s at %s Taipei = %v, want %v", tt.from, tt.to, tt.now, got, tt.quiet)
		}
	}
}

func TestRuleMatches(t *testing.T) {
	a := Alert{Kiosk: "taipei-branch/k1", Kind: AlertOffline}
	fleetWide := Alert{Kind: AlertBrokerDown}
	for _, tt := range []struct {
		name  string
		r     Rule
		a     Alert
		tags  []string
		match bool
	}{
		{"any", Rule{}, a, nil, true},
		{"kind", Rule{Kinds: []AlertKind{AlertTamper}}, a, nil, false},
		{"its site", Rule{Sites: []string{"taipei-branch"}}, a, nil, true},
		{"another site", Rule{Sites: []string{"ntuh-lobby"}}, a, nil, false},
		{"its group", Rule{Tags: []string{"region:north"}}, a, []string{"region:north"}, true},
		{"another group", Rule{Tags: []string{"region:south"}}, a, []string{"region:north"}, false},
		{"fleet-wide, every site", Rule{}, fleetWide, nil, true},
		{"fleet-wide, one site", Rule{Sites: []string{"taipei-branch"}}, fleetWide, nil, false},
		{"disabled", Rule{Disabled: true}, a, nil, false},
	} {
		if got := tt.r.matches(tt.a, tt.tags); got != tt.match {
			t.Errorf("%s: matches = %v, want %v", tt.name, got, tt.match)
		}
	}
}

func TestValidRule(t *testing.T) {
	good := Rule{Name: "oncall", Email: []string{" Ops <ops@fleet.test>"}, OnNew: true}
	if err := validRule(&good); err != nil || good.Email[0] != "ops@fleet.test" {
		t.Fatalf("validRule = %v, %v", err, good.Email)
	}
	for _, r := range []Rule{
		{Name: "", Email: []string{"a@b.c"}, OnNew: true},
		{Name: "x", OnNew: true},
		{Name: "x", Email: []string{"not an address"}, OnNew: true},
		{Name: "x", Webhook: "ftp://h/", Secret: "s", OnNew: true},
		{Name: "x", Webhook: "https://h/"},
		{Name: "x", Webhook: "https://h/", OnNew: true},
		{Name: "x", Email: []string{"a@b.c"}},
		{Name: "x", Email: []string{"a@b.c"}, OnNew: true, QuietFrom: "22:00"},
		{Name: "x", Email: []string{"a@b.c"}, OnNew: true, QuietFrom: "25:00", QuietTo: "07:00"},
		{Name: "x", Email: []string{"a@b.c"}, OnNew: true, Kinds: []AlertKind{"fire"}},
	} {
		if err := validRule(&r); err == nil {
			t.Errorf("validRule(%+v) = nil, want an error", r)
		}
	}
}
