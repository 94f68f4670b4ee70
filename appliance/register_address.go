package appliance

import (
	"strconv"
	"strings"

	"github.com/nhikiosk/nhikiosk/divisions"
)

// The household registration's address: a county, then a township, then a
// village from the division list (as deep as the list goes), then the
// neighbourhood (鄰) on the keypad. One level's list is open at a time; a
// long list first shows its groups (register_picker.go). The choices made
// stay while the person goes back a level or opens another to check it;
// choosing another county or township forgets what was under it.

// Levels of the address, in order; also the prefixes of their choices'
// widget ids ("county.<code>").
const (
	levelCounty   = "county"
	levelTownship = "township"
	levelVillage  = "village"
)

var addressLevels = []string{levelCounty, levelTownship, levelVillage}

// codeUnknown is the upstream's field code for an address not in its
// division list.
const codeUnknown = "unknown"

// IDGroup prefixes the groups of a long list ("group.<code of its first
// division>").
const IDGroup = "group"

// sentAddress is the address of the registration sent, kept for the
// receipt.
type sentAddress struct {
	county, township, village string
	neighbourhood             int
}

// level returns the level whose list is open: the one the person opened,
// or the first not chosen yet; "" once every level is chosen (the
// neighbourhood is typed then).
func (r *registration) level(w wizard) string {
	if r.pickOpen != "" {
		return r.pickOpen
	}
	c, t := r.county(w), r.township(w)
	switch {
	case c == nil:
		return levelCounty
	case len(c.Children) > 0 && t == nil:
		return levelTownship
	case t != nil && len(t.Children) > 0 && r.village(w) == nil:
		return levelVillage
	}
	return ""
}

// list returns the divisions of level.
func (r *registration) list(w wizard, level string) []Division {
	switch level {
	case levelCounty:
		return w.divisions()
	case levelTownship:
		if c := r.county(w); c != nil {
			return c.Children
		}
	case levelVillage:
		if t := r.township(w); t != nil {
			return t.Children
		}
	}
	return nil
}

// tapAddress handles the address's lists and choices; it reports whether
// id was one of them.
func (r *registration) tapAddress(w wizard, id string) bool {
	p := w.person()
	kind, code, _ := strings.Cut(id, ".")
	level := r.level(w)
	switch {
	case id == IDChangeCounty:
		r.open(levelCounty)
	case id == IDChangeTownship && r.county(w) != nil && len(r.county(w).Children) > 0:
		r.open(levelTownship)
	case id == IDChangeVillage && r.township(w) != nil && len(r.township(w).Children) > 0:
		r.open(levelVillage)
	case kind == IDGroup && level != "":
		r.pickGroup = code
	case kind == level && level != "" && divisions.Find(r.list(w, level), code) != nil:
		r.choose(p, level, code)
	default:
		return false
	}
	if r.addressComplete(w) {
		w.clearErr(FieldAddress)
	}
	return true
}

// open shows level's list, keeping every choice.
func (r *registration) open(level string) { r.pickOpen, r.pickGroup = level, "" }

// choose records code at level; another choice than before forgets the
// levels under it. The next level not chosen opens.
func (r *registration) choose(p *person, level, code string) {
	switch level {
	case levelCounty:
		if p.county != code {
			p.county, p.township, p.village = code, "", ""
		}
	case levelTownship:
		if p.township != code {
			p.township, p.village = code, ""
		}
	case levelVillage:
		p.village = code
	}
	r.open("")
}

// backAddress goes back one level on the address screen: from a group to
// its list's groups, from a list to the level above, from the
// neighbourhood to the last list; it reports false on the counties, where
// back leaves the screen.
func (r *registration) backAddress(w wizard) bool {
	level := r.level(w)
	switch {
	case level == "":
		for i := len(addressLevels) - 1; i >= 0; i-- {
			if len(r.list(w, addressLevels[i])) > 0 {
				r.open(addressLevels[i])
				return true
			}
		}
		return false
	case r.pickGroup != "":
		r.pickGroup = ""
		return true
	case level == levelCounty:
		return false
	case level == levelTownship:
		r.open(levelCounty)
	default:
		r.open(levelTownship)
	}
	return true
}

// addressComplete reports whether a division was picked at every level
// the division list has.
func (r *registration) addressComplete(w wizard) bool {
	c := r.county(w)
	if c == nil {
		return false
	}
	if len(c.Children) == 0 {
		return true
	}
	t := r.township(w)
	if t == nil {
		return false
	}
	return len(t.Children) == 0 || r.village(w) != nil
}

// county, township and village return the divisions picked, or nil.
func (r *registration) county(w wizard) *Division {
	return divisions.Find(w.divisions(), w.person().county)
}

func (r *registration) township(w wizard) *Division {
	return r.child(r.county(w), w.person().township)
}

func (r *registration) village(w wizard) *Division {
	return r.child(r.township(w), w.person().village)
}

// child returns the division under d with code, or nil.
func (r *registration) child(d *Division, code string) *Division {
	if d == nil {
		return nil
	}
	return divisions.Find(d.Children, code)
}

// keepSent copies the address being sent for the receipt.
func (r *registration) keepSent(w wizard) {
	p := w.person()
	n, _ := strconv.Atoi(p.value(FieldNeighbourhood))
	r.sent = sentAddress{p.county, p.township, p.village, n}
}

// divisionText is d's name in the person's language. In English, a name
// that another division of the same list shares (金山里 and 錦山里 are
// both Jinshan Vil.) has the Chinese name after it.
func divisionText(w wizard, d *Division, siblings []Division) string {
	if w.lang() != LangEn || d.En == "" {
		return d.Zh
	}
	for i := range siblings {
		if siblings[i].Code != d.Code && siblings[i].En == d.En {
			return d.En + " (" + d.Zh + ")"
		}
	}
	return d.En
}

// addressText is the whole address in the person's language, as far as it
// was chosen: 新北市板橋區歡園里5鄰, or Neighbourhood 5, Huanyuan Vil.,
// Banqiao District, New Taipei City.
func addressText(w wizard, county, township, village string, n int) string {
	c := divisions.Find(w.divisions(), county)
	var parts []string
	if c != nil {
		parts = append(parts, divisionText(w, c, w.divisions()))
		if t := divisions.Find(c.Children, township); t != nil {
			parts = append(parts, divisionText(w, t, c.Children))
			if v := divisions.Find(t.Children, village); v != nil {
				parts = append(parts, divisionText(w, v, t.Children))
			}
		}
	}
	hood := ""
	if n > 0 {
		hood = strconv.Itoa(n)
	}
	if w.lang() != LangEn {
		if hood != "" {
			hood += "鄰"
		}
		return strings.Join(parts, "") + hood
	}
	var out []string
	if hood != "" {
		out = append(out, "Neighbourhood "+hood)
	}
	for i := len(parts) - 1; i >= 0; i-- {
		out = append(out, parts[i])
	}
	return strings.Join(out, ", ")
}
