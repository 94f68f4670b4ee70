package appliancetest

import (
	"strings"
	"unicode/utf8"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/divisions"
)

// Address is a household registration address as a person knows it
// (from the back of their ID card), by the codes of its county, township
// and village, and the neighbourhood.
type Address struct {
	County, Township, Village string
	Neighbourhood             string
}

// Addresses the tests register: Matsu is 連江縣南竿鄉介壽村3鄰; Banqiao
// the last village of the longest list, 新北市板橋區歡園里5鄰; Lanyu
// 臺東縣蘭嶼鄉紅頭村2鄰.
var (
	Matsu   = Address{"09007", "09007010", "09007010001", "3"}
	Banqiao = Address{"65000", "65000010", "65000010126", "5"}
	Lanyu   = Address{"10014", "10014160", "10014160003", "2"}
)

// Names returns the address's divisions in the built-in list (nil if it
// is not there).
func (a Address) Names() (county, township, village *divisions.Division) {
	return divisions.Builtin().Address(a.County, a.Township, a.Village)
}

// PickAddress chooses a on the address screen as a person would, from
// what the screen shows: at each level the division's cell, or first the
// group whose cell shows the first character of its name (in English:
// whose guide letters take the name in), trying the next such group if
// it was not there; then it types the neighbourhood. It returns the taps
// made on the lists.
func (k *Kiosk) PickAddress(a Address) int {
	k.T.Helper()
	c, t, v := a.Names()
	if v == nil {
		k.T.Fatalf("address %+v is not in the division list", a)
	}
	taps := 0
	for _, l := range []struct {
		level string
		d     *divisions.Division
	}{{"county", c}, {"township", t}, {"village", v}} {
		taps += k.pick(l.level, l.d)
	}
	k.Fill(appliance.FieldNeighbourhood, a.Neighbourhood)
	return taps
}

// pick chooses d at level, which must be open.
func (k *Kiosk) pick(level string, d *divisions.Division) int {
	k.T.Helper()
	id := level + "." + d.Code
	if k.UI.Find(id) != nil {
		k.Tap(id)
		return 1
	}
	groups, ok := k.UI.Find(appliance.IDGroup).(*display.Grid)
	if !ok {
		k.T.Fatalf("%s %s: neither its cell nor groups on the screen", level, d.Zh)
	}
	taps := 0
	for _, g := range groups.Cells() {
		if !k.mayHold(g, d) {
			continue
		}
		k.Tap(appliance.IDGroup + "." + g.ID)
		taps++
		if k.UI.Find(id) != nil {
			k.Tap(id)
			return taps + 1
		}
		k.Tap(appliance.IDBack) // not there: back to the groups
		taps++
	}
	k.T.Fatalf("%s %s: in no group the screen shows", level, d.Zh)
	return 0
}

// mayHold reports whether a person looking for d would open group g: in
// Chinese when it shows the first character of d's name; in English when
// d's name falls between its guide letters.
func (k *Kiosk) mayHold(g display.Cell, d *divisions.Division) bool {
	if k.K.Machine().Lang() != appliance.LangEn {
		r, _ := utf8.DecodeRuneInString(d.Zh)
		return strings.ContainsRune(g.Text.Lit, r) || strings.HasSuffix(g.Text.Lit, "…")
	}
	from, to, ok := strings.Cut(g.Text.Lit, " – ")
	if !ok {
		to = from
	}
	name := strings.ToUpper(d.En)
	return name >= strings.ToUpper(from) && name[:min(len(name), len(to))] <= strings.ToUpper(to)
}
