package appliance

import (
	"fmt"
	"image"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
	"github.com/nhikiosk/nhikiosk/display/headless"
	"github.com/nhikiosk/nhikiosk/divisions"
)

// panels are the panels the kiosk is sized for (issue 16's display.panel
// presets): the official 7" display, Touch Display 2 and a 21.5" portrait
// panel, each at its density.
var panels = []struct {
	size image.Point
	dpi  float64
}{
	{image.Pt(800, 480), 133},
	{image.Pt(720, 1280), 210},
	{image.Pt(1080, 1920), 102},
}

// newPanelDriver is a screen driver on a panel of size at dpi whose
// upstream serves the full division list.
func newPanelDriver(t testing.TB, size image.Point, dpi float64, lang string) *screenDriver {
	t.Helper()
	clk := &displaytest.Clock{T: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	ui, err := display.New(display.Options{Font: displaytest.Font(t), Catalog: display.NewCatalog(), Theme: display.DefaultTheme(),
		Lang: lang, Size: size, DPI: dpi, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	d := &screenDriver{Harness: &displaytest.Harness{T: t, UI: ui, Screen: headless.New(size), Clock: clk}, up: newFakeUpstream(), card: &fakeCard{}}
	d.up.divisions, d.up.divisionsVersion = divisions.Builtin().Counties, divisions.BuiltinVersion
	k, err := NewKiosk(ui, Options{
		Lang: lang, IdleTimeout: 60 * time.Second, WarningCountdown: 20 * time.Second,
		RemovedScreen: 4 * time.Second, MaxDuration: 20 * time.Minute,
		Now: clk.Now, Log: slog.New(slog.NewJSONHandler(&d.logs, nil)),
		Card: d.card, Upstream: d.up,
		CardKey: func(err error) string { return "card.error.mute" },
	})
	if err != nil {
		t.Fatal(err)
	}
	d.k = k
	k.Start()
	t.Cleanup(func() { checkNoPII(t, d.logs.String()) })
	return d
}

// visible returns widget id when a person sees all of it without
// scrolling: inside its grid, and the grid inside the page's body.
func (d *screenDriver) visible(id string) display.Widget {
	d.T.Helper()
	w := d.UI.Find(id)
	if w == nil {
		return nil
	}
	grid, body := d.UI.Find(id[:strings.IndexByte(id, '.')]), d.UI.Find("body")
	if r := w.Bounds(); !r.In(grid.Bounds()) || !grid.Bounds().In(body.Bounds()) || r.Empty() {
		d.T.Fatalf("%s at %v is not in view (grid %v, body %v)", id, r, grid.Bounds(), body.Bounds())
	}
	return w
}

// press taps w's centre through the display, as a finger would.
func (d *screenDriver) press(w display.Widget) {
	r := w.Bounds()
	p := image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
	d.UI.Handle(display.Event{Kind: display.PointerDown, X: p.X, Y: p.Y})
	d.UI.Handle(display.Event{Kind: display.PointerUp, X: p.X, Y: p.Y})
}

// pick chooses div at the open level as a person would, from what the
// screen shows: its cell if the whole list is there, else the group
// whose cell shows the name's first character (in English: whose letters
// and names take the name in), then its cell. It returns the taps.
func (d *screenDriver) pick(level string, div Division, siblings []Division) int {
	d.T.Helper()
	id := level + "." + div.Code
	if w := d.visible(id); w != nil {
		d.press(w)
		return 1
	}
	grid, ok := d.UI.Find(IDGroup).(*display.Grid)
	if !ok {
		d.T.Fatalf("%s %s: neither its cell nor groups on screen", div.Code, div.Zh)
	}
	wz := d.k.m.wizard()
	items := flowOf[*registration](d.T, d.k.m).sorted(wz, siblings)
	var starts []int
	for _, c := range grid.Children() {
		code := strings.TrimPrefix(c.ID(), IDGroup+".")
		for i := range items {
			if items[i].code == code {
				starts = append(starts, i)
			}
		}
	}
	starts = append(starts, len(items))
	var groups []pickGroup
	for gi := 0; gi+1 < len(starts); gi++ {
		groups = append(groups, pickGroup{starts[gi], starts[gi+1]})
	}
	for gi, g := range groups {
		in := -1
		for i := g.lo; i < g.hi; i++ {
			if items[i].code == div.Code {
				in = i
			}
		}
		if in < 0 {
			continue
		}
		// What the cell says must lead a person there.
		cell := groupCell(wz, d.k.v, items, groups, gi)
		text := cell.Text.Lit + " " + cell.Note.Lit
		if wz.lang() == LangEn {
			first, last := items[g.lo].text, items[g.hi-1].text
			if name := items[in].text; strings.ToUpper(name) < strings.ToUpper(first) || strings.ToUpper(name) > strings.ToUpper(last) {
				d.T.Errorf("%s %q is in the group %q but outside its names", div.Code, name, text)
			}
		} else if r, _ := utf8.DecodeRuneInString(div.Zh); !strings.ContainsRune(cell.Text.Lit, r) && !strings.HasSuffix(cell.Text.Lit, "…") {
			d.T.Errorf("%s %s is in the group %q, which does not show %c", div.Code, div.Zh, text, r)
		}
		d.press(d.visible(IDGroup + "." + items[g.lo].code))
		w := d.visible(id)
		if w == nil {
			d.T.Fatalf("%s %s: not in its group %q", div.Code, div.Zh, text)
		}
		d.press(w)
		return 2
	}
	d.T.Fatalf("%s %s: in no group", div.Code, div.Zh)
	return 0
}

// TestEveryVillageReachable goes to every county, township and village of
// the full list through the pickers as a person would, on every panel in
// both languages: each in at most two taps, every cell tapped in full
// view without scrolling; and the registration carries the village's
// codes (which nhisim accepts: upstream/server's
// TestEveryVillageAccepted). It logs the taps to 板橋區's last village.
func TestEveryVillageReachable(t *testing.T) {
	for _, pn := range panels {
		for _, lang := range []string{LangZhTW, LangEn} {
			t.Run(fmt.Sprintf("%dx%d-%s", pn.size.X, pn.size.Y, lang), func(t *testing.T) {
				d := newPanelDriver(t, pn.size, pn.dpi, lang)
				d.fast = true
				d.register(ScreenAddress)
				d.fill(FieldNeighbourhood, "5")
				p := d.k.m.sess.p
				counties := divisions.Builtin().Counties

				// 板橋區's last village from a fresh address screen.
				_, banqiao, last := divisions.Builtin().Address("65000", "65000010", "65000010126")
				c := divisions.Find(counties, "65000")
				tc := d.pick(levelCounty, *c, counties)
				tt := d.pick(levelTownship, *banqiao, c.Children)
				tv := d.pick(levelVillage, *last, banqiao.Children)
				if p.village != last.Code {
					t.Fatalf("板橋區's last village: picked %q", p.village)
				}
				t.Logf("新北市板橋區歡園里: %d taps (county %d, township %d, village %d)", tc+tt+tv, tc, tt, tv)

				most, villages := 0, 0
				for _, c := range counties {
					d.k.Dispatch(Tap{ID: IDChangeCounty})
					if n := d.pick(levelCounty, c, counties); p.county != c.Code {
						t.Fatalf("county %s: picked %q", c.Zh, p.county)
					} else {
						most = max(most, n)
					}
					for _, tw := range c.Children {
						d.k.Dispatch(Tap{ID: IDChangeTownship})
						if n := d.pick(levelTownship, tw, c.Children); p.township != tw.Code {
							t.Fatalf("township %s: picked %q", tw.Zh, p.township)
						} else {
							most = max(most, n)
						}
						for _, v := range tw.Children {
							d.k.Dispatch(Tap{ID: IDChangeVillage})
							most = max(most, d.pick(levelVillage, v, tw.Children))
							reg := flowOf[*registration](t, d.k.m).registration(d.k.m.wizard())
							if reg.CountyCode != c.Code || reg.TownshipCode != tw.Code || reg.VillageCode != v.Code {
								t.Fatalf("%s%s%s: registration has %s %s %s", c.Zh, tw.Zh, v.Zh, reg.CountyCode, reg.TownshipCode, reg.VillageCode)
							}
							villages++
						}
					}
				}
				if villages != 7747 || most > 2 {
					t.Errorf("reached %d villages, at most %d taps a level; want 7747, 2", villages, most)
				}
			})
		}
	}
}

// openGroupOf opens, in fast mode, the group of the open level's list
// that holds code, when the list shows groups.
func (d *screenDriver) openGroupOf(siblings []Division, code string) {
	d.T.Helper()
	grid, ok := d.UI.Find(IDGroup).(*display.Grid)
	if !ok {
		return
	}
	items := pickItems(d.k.m.wizard(), siblings)
	at := func(c string) int {
		for i := range items {
			if items[i].code == c {
				return i
			}
		}
		return -1
	}
	open := ""
	for _, c := range grid.Cells() {
		if at(c.ID) <= at(code) {
			open = c.ID
		}
	}
	d.k.Dispatch(Tap{ID: IDGroup + "." + open})
}

// pickerStates are the largest cases of the three pickers: the 22
// counties, 高雄市's 38 townships and 板橋區's 126 villages (its groups,
// and the group of its last village, 歡園里, chosen before and opened
// again).
var pickerStates = []screenState{
	{"picker-county", func(d *screenDriver) { d.register(ScreenAddress) }},
	{"picker-township-kaohsiung", func(d *screenDriver) { d.register(ScreenAddress); d.tap("county.64000") }},
	{"picker-township-kaohsiung-group", func(d *screenDriver) {
		d.register(ScreenAddress)
		d.tap("county.64000")
		d.openGroupOf(divisions.Find(divisions.Builtin().Counties, "64000").Children, "64000140") // 鼓山區
	}},
	{"picker-village-banqiao", func(d *screenDriver) {
		d.register(ScreenAddress)
		d.tap("county.65000")
		d.tap("township.65000010")
	}},
	{"picker-village-banqiao-group", func(d *screenDriver) {
		d.register(ScreenAddress)
		d.tap("county.65000")
		d.tap("township.65000010")
		_, banqiao, _ := divisions.Builtin().Address("65000", "65000010", "")
		d.openGroupOf(banqiao.Children, "65000010126")
		d.tap("village.65000010126")
		d.tap(IDChangeVillage)
		d.openGroupOf(banqiao.Children, "65000010126")
	}},
}

// TestGoldenPickers renders the pickers' largest cases on every panel in
// both languages, compares them with testdata/ and checks that no text is
// clipped or overlaps.
func TestGoldenPickers(t *testing.T) {
	for _, pn := range panels {
		for _, lang := range []string{LangZhTW, LangEn} {
			for _, st := range pickerStates {
				name := fmt.Sprintf("%s-%dx%d-%s", st.name, pn.size.X, pn.size.Y, lang)
				t.Run(name, func(t *testing.T) {
					d := newPanelDriver(t, pn.size, pn.dpi, lang)
					d.fast = true
					st.reach(d)
					d.Step()
					displaytest.CheckText(t, name, d.UI.Audit(), image.Rectangle{Max: pn.size})
					d.golden(name)
				})
			}
		}
	}
}

// BenchmarkPickerPage opens 板橋區's villages (126: the index of first
// characters) and one of its groups, as two taps do, with the layout and
// the frame drawn each time, on the smallest and the largest panel.
func BenchmarkPickerPage(b *testing.B) {
	for _, pn := range []int{0, 2} {
		p := panels[pn]
		b.Run(fmt.Sprintf("%dx%d", p.size.X, p.size.Y), func(b *testing.B) {
			d := newPanelDriver(b, p.size, p.dpi, LangZhTW)
			d.fast = true
			d.register(ScreenAddress)
			d.tap("county.65000")
			d.tap("township.65000010")
			_, banqiao, _ := divisions.Builtin().Address("65000", "65000010", "")
			for b.Loop() {
				d.k.Dispatch(Tap{ID: IDChangeVillage})
				d.UI.Render()
				d.openGroupOf(banqiao.Children, "65000010126")
				d.UI.Render()
			}
		})
	}
}
