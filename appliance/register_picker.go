package appliance

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/divisions"
)

// The address screen's page: the three levels chosen so far, always in
// view (each a button that opens its list again), and the open level's
// list as a grid of large cells. A list longer than what the panel shows
// at once (板橋區's 126 villages) first shows its groups: in Chinese, runs
// of names by the strokes of their first character, as lists are ordered
// in Taiwan, each cell showing those first characters (大 三 上) and the
// strokes; in English, runs of names alphabetically, each cell showing
// the first and last name. A group then shows its names, so every
// division is two taps away, three with the county.

// pickItem is a division as the picker shows it.
type pickItem struct {
	code  string
	text  string // in the person's language
	zh    string // the Chinese name: how it is said (issue 20)
	note  string // in English, the Chinese name when another has the same English one
	first rune   // the character or letter groups are cut by
	key   []int  // order: the strokes and code of each character, or the letters
}

// pickItems returns ds in the order the picker shows them: in Chinese by
// strokes, character by character (筆畫); in English alphabetically. In
// English a suffix every name shares ("Vil.", "District") is left out,
// and a name two divisions share (金山里 and 錦山里 are both Jinshan Vil.)
// has the Chinese name under it.
func pickItems(w wizard, ds []Division) []pickItem {
	items := make([]pickItem, len(ds))
	suffix := commonSuffix(ds)
	en := map[string]int{}
	for i := range ds {
		en[ds[i].En]++
	}
	for i := range ds {
		d := &ds[i]
		it := pickItem{code: d.Code, text: d.Zh, zh: d.Zh}
		if w.lang() == LangEn && d.En != "" {
			it.text = strings.TrimSuffix(d.En, suffix)
			if en[d.En] > 1 {
				it.note = d.Zh
			}
			for _, r := range strings.ToUpper(it.text) {
				it.key = append(it.key, int(r))
			}
		} else {
			for _, r := range d.Zh {
				it.key = append(it.key, divisions.Strokes(r), int(r))
			}
		}
		it.first, _ = utf8.DecodeRuneInString(strings.ToUpper(it.text))
		items[i] = it
	}
	slices.SortStableFunc(items, func(a, b pickItem) int {
		return cmp.Or(slices.Compare(a.key, b.key), strings.Compare(a.code, b.code))
	})
	return items
}

// sortedList is pickItems of the list shown last: a page is built again
// on every tap, most often for the same list.
type sortedList struct {
	of    *Division
	n     int
	lang  string
	items []pickItem
}

// sorted returns pickItems(w, ds), kept for the next page of the same
// list in the same language.
func (r *registration) sorted(w wizard, ds []Division) []pickItem {
	if len(ds) == 0 {
		return nil
	}
	if c := r.sortedList; c.of != &ds[0] || c.n != len(ds) || c.lang != w.lang() {
		r.sortedList = sortedList{&ds[0], len(ds), w.lang(), pickItems(w, ds)}
	}
	return r.sortedList.items
}

// commonSuffix is the last word of every division's English name when it
// is the same for all (" Vil."), so the cells need not repeat it.
func commonSuffix(ds []Division) string {
	suffix := ""
	for i, d := range ds {
		j := strings.LastIndexByte(d.En, ' ')
		if j <= 0 || (i > 0 && d.En[j:] != suffix) {
			return ""
		}
		suffix = d.En[j:]
	}
	return suffix
}

// pickGroup is a run of a list's items, from index lo to hi (exclusive).
type pickGroup struct{ lo, hi int }

// groupItems cuts items into runs of at most size items that start with
// at most starts different characters (letters), cutting between them:
// one character's items stay together unless they alone are more than
// size.
func groupItems(items []pickItem, size, starts int) []pickGroup {
	size, starts = max(size, 1), max(starts, 1)
	var groups []pickGroup
	cur, firsts := pickGroup{}, 0
	for lo := 0; lo < len(items); {
		hi := lo
		for hi < len(items) && items[hi].first == items[lo].first {
			hi++
		}
		switch n := hi - lo; {
		case n > size:
			if cur.hi > cur.lo {
				groups = append(groups, cur)
			}
			parts := (n + size - 1) / size
			for p := range parts {
				groups = append(groups, pickGroup{lo + p*n/parts, lo + (p+1)*n/parts})
			}
			cur, firsts = pickGroup{hi, hi}, 0
		case cur.hi > cur.lo && (cur.hi-cur.lo+n > size || firsts == starts):
			groups = append(groups, cur)
			cur, firsts = pickGroup{lo, hi}, 1
		default:
			if cur.hi == cur.lo {
				cur.lo = lo
			}
			cur.hi = hi
			firsts++
		}
		lo = hi
	}
	if cur.hi > cur.lo {
		groups = append(groups, cur)
	}
	return groups
}

// groupCell is the cell of groups[i]: in Chinese its first characters
// and, under them, their strokes (or, for part of one character's names,
// the first and last name); in English the letters its names run from
// and to, as a dictionary's guide words, long enough to tell it from the
// groups beside it.
func groupCell(w wizard, v *view, items []pickItem, groups []pickGroup, i int) display.Cell {
	g := groups[i]
	first, last := items[g.lo], items[g.hi-1]
	cell := display.Cell{ID: first.code}
	if w.lang() == LangEn {
		from, to := string(first.first), string(last.first)
		if i > 0 {
			from = guide(first.text, items[g.lo-1].text)
		}
		if i+1 < len(groups) {
			to = guide(last.text, items[g.hi].text)
		}
		if from == to {
			cell.Text = display.Lit(from)
		} else {
			cell.Text = display.Lit(from + " – " + to)
		}
		return cell
	}
	var chars []string
	for i := g.lo; i < g.hi; i++ {
		if s := string(items[i].first); !slices.Contains(chars, s) {
			chars = append(chars, s)
		}
	}
	cell.Text = display.Lit(strings.Join(chars, "  "))
	if len(chars) == 1 && (g.lo > 0 && items[g.lo-1].first == first.first || g.hi < len(items) && items[g.hi].first == first.first) {
		// Part of one character's names: from which to which.
		cell.Note = display.Lit(first.text + "–" + last.text)
	} else {
		cell.Note = display.Lit(v.text("address.strokes", "range", strokeRange(first.first, last.first)))
	}
	return cell
}

// guide is the shortest start of name (one letter at least) that the
// neighbouring name does not share.
func guide(name, other string) string {
	a, b := []rune(name), []rune(strings.ToUpper(other))
	for n := 1; n <= len(a); n++ {
		if n > len(b) || unicode.ToUpper(a[n-1]) != b[n-1] {
			return strings.TrimSpace(string(a[:n]))
		}
	}
	return name
}

func strokeRange(a, b rune) string {
	sa, sb := divisions.Strokes(a), divisions.Strokes(b)
	if sa == sb {
		return strconv.Itoa(sa)
	}
	return strconv.Itoa(sa) + "–" + strconv.Itoa(sb)
}

// levelKeys are the catalog keys of each level: its name, and what its
// choice says while the level is open: choose, or choose among its
// groups.
var levelKeys = map[string]struct{ name, pick, group string }{
	levelCounty:   {"address.county", "address.choose", "address.choose_group"},
	levelTownship: {"address.township", "address.choose", "address.choose_group"},
	levelVillage:  {"address.village", "address.choose", "address.choose_group"},
}

// choices is the row of the three levels: what was chosen at each, the
// open one marked and saying what to do (prompt), each a way back to its
// list.
func (r *registration) choices(w wizard, v *view, open, prompt string) display.Widget {
	picked := []*Division{r.county(w), r.township(w), r.village(w)}
	ids := []string{IDChangeCounty, IDChangeTownship, IDChangeVillage}
	var cs []display.Widget
	for i, level := range addressLevels {
		var value display.Msg
		var said display.Msg
		if picked[i] != nil {
			value = display.Lit(divisionText(w, picked[i], r.list(w, level)))
			// Said by its Chinese name in either language (issue 20).
			said = display.Lit(picked[i].Zh)
		}
		id := ids[i]
		ch := display.NewChoice(id, display.M(levelKeys[level].name), value, display.Lit("—"), func() { v.post(Tap{ID: id}) })
		ch.Say = said
		if ch.Open = level == open; ch.Open {
			ch.Prompt = display.M(prompt)
		}
		ch.Disabled = i > 0 && picked[i-1] == nil
		cs = append(cs, ch)
	}
	return display.NewRow("address.choices", cs...)
}

// addressPage shows the levels chosen so far and the open level's list
// (its groups first when it is too long for the panel), or, once every
// level is chosen, the neighbourhood on the numeric keypad. What to do
// shows in the open level's choice; the help, at the start and with the
// neighbourhood.
func (r *registration) addressPage(w wizard, v *view) *display.Page {
	level := r.level(w)
	page := &display.Page{ID: string(ScreenAddress), Header: r.header(w, "address.title"), Footer: r.footer(v, nil)}
	choices := func(prompt string) { page.Body[0] = r.choices(w, v, level, prompt) }
	page.Body = []display.Widget{nil}
	choices("address.choose")
	if e := w.err(FieldAddress); e != "" {
		page.Body = append(page.Body, label("address.error", v.errKey(FieldAddress, e)))
	}
	help := label("address.help", "address.help")
	help.Muted = true
	if level == "" {
		page.Body = append(page.Body, help, v.field(FieldNeighbourhood, "field.neighbourhood"))
		return page
	}
	if level == levelCounty && w.person().county == "" {
		page.Body = append(page.Body, help)
	}
	chosen := map[string]string{levelCounty: w.person().county, levelTownship: w.person().township, levelVillage: w.person().village}[level]
	items := r.sorted(w, r.list(w, level))
	cells := make([]display.Cell, len(items))
	for i, it := range items {
		cells[i] = display.Cell{ID: it.code, Text: display.Lit(it.text), Say: display.Lit(it.zh)}
		if it.note != "" {
			cells[i].Note = display.Lit(it.note)
		}
	}
	height := v.fillHeight(page)
	if len(items) <= v.ui.GridCapacity(height, cells) {
		grid := display.NewGrid(level, height, cells...)
		return r.withGrid(v, page, grid, chosen)
	}
	// Too long for the panel: its groups, then a group's names; cut for
	// the smaller grid of the two pages (the groups' prompt may take more
	// room).
	choices(levelKeys[level].group)
	groupsHeight := v.fillHeight(page)
	fits := v.ui.GridCapacity(min(height, groupsHeight), cells)
	groups, gc := r.groups(w, v, items, fits, groupsHeight)
	shown := slices.IndexFunc(groups, func(g pickGroup) bool { return items[g.lo].code == r.pickGroup })
	if shown >= 0 {
		choices(levelKeys[level].pick)
		g := groups[shown]
		return r.withGrid(v, page, display.NewGrid(level, height, cells[g.lo:g.hi]...), chosen)
	}
	height = groupsHeight
	for i, g := range groups {
		if slices.ContainsFunc(items[g.lo:g.hi], func(it pickItem) bool { return it.code == chosen }) {
			chosen = gc[i].ID
		}
	}
	return r.withGrid(v, page, display.NewGrid(IDGroup, height, gc...), chosen)
}

// groups cuts a list too long for the panel into groups of at most fits
// items whose cells all fit a grid height dp tall: a cell for each first
// character (letter) when they all fit, an index of characters by strokes
// or of letters; else, in Chinese, cells that show every first character
// of their group on one line, as many as the panel allows, and in English
// runs of letters.
func (r *registration) groups(w wizard, v *view, items []pickItem, fits int, height float64) ([]pickGroup, []display.Cell) {
	var groups []pickGroup
	var cells []display.Cell
	options := []int{1, 16, 12, 10, 8, 6, 4, 3, 2}
	if w.lang() == LangEn {
		options = []int{1, len(items)} // guide letters are short whatever the group
	}
	for _, starts := range options {
		groups = groupItems(items, fits, starts)
		cells = make([]display.Cell, len(groups))
		for i := range groups {
			cells[i] = groupCell(w, v, items, groups, i)
		}
		if len(cells) <= v.ui.GridCapacity(height, cells) {
			break
		}
	}
	return groups, cells
}

// withGrid puts grid at the page's end, chosen marked, its taps going
// to the machine.
func (r *registration) withGrid(v *view, page *display.Page, grid *display.Grid, chosen string) *display.Page {
	grid.Selected = chosen
	id := grid.ID()
	grid.OnSelect = func(c display.Cell) { v.post(Tap{ID: id + "." + c.ID}) }
	page.Body = append(page.Body, grid)
	return page
}
