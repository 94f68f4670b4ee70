package server_test

import (
	"slices"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/divisions"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// TestEveryVillageAccepted: nhisim, on its default list, accepts an
// address in each of the 7,747 villages (the checks every registration
// passes), and registers one person in the first and last village of each
// county over the API.
func TestEveryVillageAccepted(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	n := 0
	for _, c := range divisions.Builtin().Counties {
		for _, tw := range c.Children {
			for _, v := range tw.Children {
				p := upstreamtest.Person(1)
				p.Household.CountyCode, p.Household.TownshipCode, p.Household.VillageCode = c.Code, tw.Code, v.Code
				if f := e.sim.Server.CheckRegistration(p, now); len(f) > 0 {
					t.Errorf("%s %s%s%s refused: %+v", v.Code, c.Zh, tw.Zh, v.Zh, f)
				}
				n++
			}
		}
	}
	if n != 7747 {
		t.Errorf("tried %d villages, want 7747", n)
	}
	for i, c := range divisions.Builtin().Counties {
		last := c.Children[len(c.Children)-1]
		for j, v := range []divisions.Division{c.Children[0].Children[0], last.Children[len(last.Children)-1]} {
			p := upstreamtest.Person(100 + 2*i + j)
			p.Household.CountyCode, p.Household.TownshipCode, p.Household.VillageCode = c.Code, v.Code[:divisions.TownshipCodeLen], v.Code
			if _, err := e.c.Register(t.Context(), p); err != nil {
				t.Errorf("register in %s %s: %v", c.Zh, v.Zh, err)
			}
		}
	}
}

// TestUnknownAddress: codes of the right form that the list lacks are
// refused on the field of the first level that is not there.
func TestUnknownAddress(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name                      string
		county, township, village string
		field, code               string
	}{
		{"no such county", "65999", "65999010", "65999010001", "household.county_code", upstream.FieldCodeUnknown},
		{"township of no county", "65000", "65000990", "65000990001", "household.township_code", upstream.FieldCodeUnknown},
		{"village past Banqiao's last", "65000", "65000010", "65000010127", "household.village_code", upstream.FieldCodeUnknown},
		{"village of another township", "65000", "65000020", "65000010126", "household.village_code", "format"},
		{"letters", "65000", "65000010", "6500001012X", "household.village_code", "format"},
		{"missing", "65000", "", "65000010126", "household.township_code", "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := upstreamtest.Person(2)
			p.Household.CountyCode, p.Household.TownshipCode, p.Household.VillageCode = tc.county, tc.township, tc.village
			f := e.sim.Server.CheckRegistration(p, time.Now())
			if !slices.ContainsFunc(f, func(fe upstream.FieldError) bool { return fe.Field == tc.field && fe.Code == tc.code }) {
				t.Errorf("fields %+v, want %s:%s", f, tc.field, tc.code)
			}
		})
	}
}

// TestNamesFromOlderKiosks: a registration queued by a kiosk from before
// the codes names its address in Chinese; the upstream resolves the names
// (and refuses names it does not know, as a missing code).
func TestNamesFromOlderKiosks(t *testing.T) {
	e := newEnv(t)
	p := upstreamtest.Person(3)
	p.Household = upstream.Household{Number: "F1234567", County: "臺東縣", Township: "蘭嶼鄉", Village: "紅頭村", Neighbourhood: 2}
	if _, err := e.c.Register(t.Context(), p); err == nil {
		t.Fatalf("the client sent a registration without codes")
	}
	proof, err := upstreamtest.Genuine(t.Context(), e.c, upstream.PurposeRegistration, p.CardNumber, p.IDNumber)
	if err != nil {
		t.Fatal(err)
	}
	p.CardAuth = proof
	status, eb := post(t, e.sim.URL+upstream.PathRegistrations, "old-kiosk-1", mustJSON(t, p))
	if status != 201 {
		t.Errorf("names of 臺東縣蘭嶼鄉紅頭村: %d %+v, want 201", status, eb.Error)
	}
	p = upstreamtest.Person(4)
	p.Household = upstream.Household{Number: "F1234567", County: "臺東縣", Township: "蘭嶼鄉", Village: "不存在村", Neighbourhood: 2}
	if p.CardAuth, err = upstreamtest.Genuine(t.Context(), e.c, upstream.PurposeRegistration, p.CardNumber, p.IDNumber); err != nil {
		t.Fatal(err)
	}
	status, eb = post(t, e.sim.URL+upstream.PathRegistrations, "old-kiosk-2", mustJSON(t, p))
	if status != 422 || eb.Error == nil || !slices.ContainsFunc(eb.Error.Fields, func(f upstream.FieldError) bool { return f.Field == "household.village_code" }) {
		t.Errorf("an unknown village by name: %d %+v, want 422 on household.village_code", status, eb.Error)
	}
}
