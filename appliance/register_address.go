package appliance

import "strings"

// The household registration's address: a county, then a township, then a
// village from the division list, as deep as the list goes.

// tapAddress handles the division lists; it reports whether id was one of
// them.
func (r *registration) tapAddress(w wizard, id string) bool {
	p := w.person()
	kind, code, _ := strings.Cut(id, ".")
	switch {
	case kind == "county" && id != IDChangeCounty && findDivision(w.divisions(), code) != nil:
		p.county, p.township, p.village = code, "", ""
	case kind == "township" && id != IDChangeTownship && r.child(r.county(w), code) != nil:
		p.township, p.village = code, ""
	case kind == "village" && id != IDChangeVillage && r.child(r.township(w), code) != nil:
		p.village = code
	case id == IDChangeCounty:
		p.county, p.township, p.village = "", "", ""
	case id == IDChangeTownship:
		p.township, p.village = "", ""
	case id == IDChangeVillage:
		p.village = ""
	default:
		return false
	}
	if r.addressComplete(w) {
		w.clearErr(FieldAddress)
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
	return findDivision(w.divisions(), w.person().county)
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
	return findDivision(d.Children, code)
}

func findDivision(ds []Division, code string) *Division {
	for i := range ds {
		if ds[i].Code == code {
			return &ds[i]
		}
	}
	return nil
}

func divisionName(d *Division) string {
	if d == nil {
		return ""
	}
	return d.Zh
}
