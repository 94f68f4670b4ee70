package appliance

import (
	"slices"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/divisions"
)

// countCalls returns how often the fake upstream was asked name.
func (u *fakeUpstream) countCalls(name string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, c := range u.calls {
		if c == name {
			n++
		}
	}
	return n
}

// TestDivisionsWhichWins: the upstream's current list is used whatever
// its version; a copy kept from its last answer only when it is at least
// as new as the list in use (the built-in one at start).
func TestDivisionsWhichWins(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version string
		cached  bool
		err     error
		want    string // version in use
	}{
		{"upstream's current list", "2030-01-01", false, nil, "2030-01-01"},
		{"upstream's current list, older than the built-in", "2020-01-01", false, nil, "2020-01-01"},
		{"kept copy newer than the built-in", "2030-01-01", true, nil, "2030-01-01"},
		{"kept copy as old as the built-in", divisions.BuiltinVersion, true, nil, divisions.BuiltinVersion},
		{"kept copy older than the built-in", "2020-01-01", true, nil, divisions.BuiltinVersion},
		{"no answer, no copy", "2030-01-01", false, ErrUnavailable, divisions.BuiltinVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t)
			d.up.divisionsVersion, d.up.divisionsCached = tc.version, tc.cached
			if tc.err != nil {
				d.up.errs["Divisions"] = tc.err
			}
			d.m = NewMachine(d.m.opt)
			d.run(d.m.Start())
			if got := d.m.divisions.Version; got != tc.want {
				t.Errorf("list in use: version %s, want %s", got, tc.want)
			}
			if tc.cached && tc.want == tc.version && len(d.m.divisions.Counties) != len(fakeDivisions()) {
				t.Errorf("the kept copy's version is in use but not its counties")
			}
			d.do(CardInserted{}) // a step for the log check
		})
	}
}

// TestDivisionsRefresh: between sessions the kiosk asks again every hour
// (5 minutes after no answer); a list that arrives during a session waits
// for its end, so what the person picked does not change under them.
func TestDivisionsRefresh(t *testing.T) {
	d := newDriver(t)
	if n := d.up.countCalls("Divisions"); n != 1 {
		t.Fatalf("asked %d times at start, want 1", n)
	}
	d.advance(59 * time.Minute)
	if n := d.up.countCalls("Divisions"); n != 1 {
		t.Errorf("asked %d times before the hour, want 1", n)
	}
	d.up.errs["Divisions"] = ErrUnavailable
	d.advance(2 * time.Minute)
	if n := d.up.countCalls("Divisions"); n != 2 {
		t.Errorf("asked %d times after the hour, want 2", n)
	}
	delete(d.up.errs, "Divisions")
	d.advance(4 * time.Minute)
	if n := d.up.countCalls("Divisions"); n != 2 {
		t.Errorf("asked %d times within 5 minutes of no answer, want 2", n)
	}
	// A session starts; a new list (a village renamed) is served.
	d.registerTo(ScreenAddress)
	d.tap("county.63000", "township.63000050", "village.6300005001")
	d.up.divisions = fakeDivisions()
	d.up.divisions[0].Children[4].Children[0].Zh = "新測試里"
	d.up.divisionsVersion = "2030-01-01"
	d.advance(2 * time.Hour)
	if n := d.up.countCalls("Divisions"); n != 2 {
		t.Errorf("asked during a session (%d calls)", n)
	}
	d.do(CardRemoved{})
	d.advance(5 * time.Second)
	if n := d.up.countCalls("Divisions"); n != 3 || d.m.divisions.Version != "2030-01-01" {
		t.Fatalf("after the session: %d calls, version %s; want 3, 2030-01-01", n, d.m.divisions.Version)
	}
	if v := divisions.Find(divisions.Find(d.m.divisions.Counties, "63000").Children, "63000050").Children[0]; v.Zh != "新測試里" {
		t.Errorf("village after the refresh: %s", v.Zh)
	}
}

// TestDivisionsDuringSession: a list that arrives during a session is put
// in use when it ends; one asked for after the upstream refused the
// address as unknown is used at once, and the person chooses again from
// it.
func TestDivisionsDuringSession(t *testing.T) {
	d := newDriver(t)
	d.registerTo(ScreenAddress)
	d.up.divisionsVersion = "2030-01-01"
	d.run([]Job{d.m.loadDivisions(false)})
	if d.m.divisions.Version == "2030-01-01" || d.m.divisionsNext == nil {
		t.Errorf("a list arriving during a session was used at once")
	}
	d.do(CardRemoved{})
	if d.m.divisions.Version != "2030-01-01" {
		t.Errorf("the list that arrived during the session is not in use after it")
	}

	d = newDriver(t)
	d.registerTo(ScreenReview)
	d.up.errs["Register"] = &UpstreamError{Kind: KindInvalid, Fields: []FieldProblem{{Field: FieldAddress, Code: codeUnknown}}}
	d.up.divisions = slices.Clone(fakeDivisions())
	d.up.divisions[0].Children = slices.Clone(d.up.divisions[0].Children)
	d.up.divisions[0].Children[4].Children = d.up.divisions[0].Children[4].Children[1:] // 測試里 is gone
	d.up.divisionsVersion = "2030-01-01"
	d.tap(IDSubmit)
	d.wantScreen(ScreenAddress)
	if d.m.divisions.Version != "2030-01-01" {
		t.Fatalf("after an unknown address the upstream's list is not in use")
	}
	r := flowOf[*registration](t, d.m)
	if got := r.level(d.m.wizard()); got != levelVillage {
		t.Errorf("open level %q, want the villages to choose again", got)
	}
	delete(d.up.errs, "Register")
	d.tap("village.6300005002", IDNext)
	d.wantScreen(ScreenReview)
	d.tap(IDSubmit)
	d.wantScreen(ScreenReceipt)
	if got := d.up.registered[len(d.up.registered)-1].VillageCode; got != "6300005002" {
		t.Errorf("registered village %s, want 6300005002", got)
	}
}
