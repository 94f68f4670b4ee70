package appliance

import (
	"bytes"
	"embed"
	"fmt"

	"github.com/nhikiosk/nhikiosk/display"
)

//go:embed messages/*.json
var messages embed.FS

// AddMessages adds the wizard's texts (zh-TW and en) to cat.
func AddMessages(cat *display.Catalog) error {
	if err := cat.AddFS(messages, "messages"); err != nil {
		return fmt.Errorf("wizard messages: %w", err)
	}
	addTermsMessages(cat)
	return nil
}

// view draws the machine's state with the display engine: the shared
// screens' pages itself (pages.go), the flows' pages through their page
// method. It builds a page when the screen (or what its layout depends on)
// changes, and otherwise patches the page: errors under fields, what the
// page asked to patch (onPatch), the idle warning. Fields' values flow back to the machine as SetField events; the
// view keeps no copy of them beyond what the display's fields hold, and
// wipes those whenever it replaces a page.
type view struct {
	m    *Machine
	ui   *display.UI
	post func(Event)

	key     string
	showErr int
	fields  map[FieldID]*display.Field
	// patchers bring the page's widgets up to date with the machine
	// without a new layout, and report whether they changed any.
	patchers []func() bool
}

func newView(m *Machine, ui *display.UI, post func(Event)) *view {
	return &view{m: m, ui: ui, post: post, fields: map[FieldID]*display.Field{}}
}

// pageKey names everything a page's layout depends on; a change means a
// new page.
func (v *view) pageKey() string {
	m := v.m
	k := fmt.Sprintf("%s|%s", m.screen, m.lang)
	if m.screen == ScreenOutOfService {
		k += fmt.Sprintf("|%v|%t", m.hw, m.maintenance || m.tampered)
	}
	if s := m.sess; s != nil {
		k += fmt.Sprintf("|%s|%s|%s|%s|%t", s.busyKey, s.errKind, s.resultKey, s.cardErrKey, s.completed)
		if l, ok := m.flow().(layouter); ok {
			k += "|" + l.layout(m.wizard())
		}
	}
	return k
}

// sync brings the screen up to date with the machine.
func (v *view) sync() {
	if v.ui.Lang() != v.m.lang {
		v.ui.SetLang(v.m.lang)
	}
	if k := v.pageKey(); k != v.key {
		v.key = k
		v.show()
	}
	v.patch()
	v.syncDialog()
}

// show replaces the page, wiping the old one's fields first.
func (v *view) show() {
	var focused FieldID
	if f := v.ui.Focus(); f != nil {
		focused = FieldID(f.ID()[len("field."):])
	}
	v.ui.Wipe()
	clear(v.fields)
	v.patchers = nil
	p := v.build()
	if p.ID != pageOutOfServiceHardware {
		p.Footer = append([]display.Widget{v.langButton()}, p.Footer...)
	}
	v.ui.SetPage(p)
	if s := v.m.sess; s != nil {
		for f, w := range v.fields {
			if b := s.p.fields[f]; len(b) > 0 {
				w.SetValue(nil, b)
			}
		}
	}
	if w := v.fields[focused]; w != nil && focused != "" {
		v.ui.SetFocus(w)
	}
}

// patch updates what changes without a new layout.
func (v *view) patch() {
	s := v.m.sess
	changed := false
	for f, w := range v.fields {
		var msg display.Msg
		if s != nil {
			if c := s.errs[f]; c != "" {
				msg = display.M(v.errKey(f, c))
			}
		}
		if !sameMsg(w.Error, msg) {
			w.Error, changed = msg, true
		}
		// The machine may have normalised what was typed (capitals in the
		// household number): show its version.
		if s != nil {
			cur := w.Value()
			if b := s.p.fields[f]; !bytes.Equal(b, cur) {
				w.SetValue(nil, b)
				changed = true
			}
			zero(cur)
		}
	}
	if s != nil {
		for _, p := range v.patchers {
			changed = p() || changed
		}
	}
	if changed {
		// SetLang with the current language is how the engine is asked
		// for a new layout from outside a widget.
		v.ui.SetLang(v.ui.Lang())
	}
	if s != nil && s.showErr != v.showErr {
		// The machine points at a field to fix: bring it into view.
		v.showErr = s.showErr
		if w := v.fields[s.focus]; w != nil {
			v.ui.Reveal(w)
		}
	}
}

func sameMsg(a, b display.Msg) bool { return a.Key == b.Key && a.Lit == b.Lit }

// errKey is the catalog key of error code c under field f: a message for
// that field if there is one, else the general one.
func (v *view) errKey(f FieldID, c string) string {
	if k := "err." + string(f) + "." + c; v.ui.Catalog().Has(v.m.lang, k) {
		return k
	}
	return "err." + c
}

func (v *view) syncDialog() {
	on, _ := v.m.Warning()
	d := v.ui.Dialog()
	switch {
	case on && d == nil:
		dl := display.NewDialog("idle", display.M("idle.title"), display.M("idle.body"),
			v.button(IDContinue, "btn.continue", display.Primary))
		dl.CountdownKey = "idle.countdown"
		dl.Deadline = v.m.warnSince.Add(v.m.opt.WarningCountdown)
		v.ui.ShowDialog(dl)
	case !on && d != nil:
		v.ui.CloseDialog()
	}
}

// button returns a button that taps id into the machine.
func (v *view) button(id, key string, style display.ButtonStyle) *display.Button {
	return display.NewButton(id, display.M(key), style, func() { v.post(Tap{ID: id}) })
}

// langButton switches to the other language; it is on every page, in that
// language's own words.
func (v *view) langButton() *display.Button {
	if v.m.lang == LangEn {
		return display.NewButton(IDLangZh, display.M("lang.zh"), display.Secondary, func() { v.post(Tap{ID: IDLangZh}) })
	}
	return display.NewButton(IDLangEn, display.M("lang.en"), display.Secondary, func() { v.post(Tap{ID: IDLangEn}) })
}

// field returns the text field for f, wired to the machine.
func (v *view) field(f FieldID, label string) *display.Field {
	spec := fieldSpecs[f]
	kind := display.KindText
	switch spec.keyboard {
	case KeyboardNumeric:
		kind = display.KindNumber
	case KeyboardEmail:
		kind = display.KindEmail
	}
	w := display.NewField("field."+string(f), display.M(label), kind)
	w.Masked, w.MaxLen = spec.secret, spec.max
	w.Allow = func(r rune) bool {
		return r < 0x80 && spec.keyboard.accepts(spec.keyboard.normalize(byte(r)))
	}
	if k := "field." + string(f) + ".hint"; v.ui.Catalog().Has(v.m.lang, k) {
		w.Hint = display.M(k)
	}
	w.OnChange = func() { v.post(SetField{Field: f, Value: w.Value()}) }
	v.fields[f] = w
	return w
}

// text returns a catalog text in the machine's language now, for literal
// compositions such as "label: value".
func (v *view) text(key string, args ...any) string {
	return v.ui.Catalog().Text(v.m.lang, key, args...)
}

// pair is "label: value" in the machine's language.
func (v *view) pair(key, value string) string {
	if v.m.lang == LangEn {
		return v.text(key) + ": " + value
	}
	return v.text(key) + "：" + value
}

// bodyDp is the height in dp the body of a page has on this screen, for
// boxes that should fill it (the rules' text, lists).
func (v *view) bodyDp() float64 {
	return float64(v.ui.Size().Y)/v.ui.Scale() - 190
}

// fillHeight is the height in dp a widget appended to p's body can take
// without the body scrolling, the footer with its language button.
func (v *view) fillHeight(p *display.Page) float64 {
	q := *p
	q.Footer = append([]display.Widget{v.langButton()}, p.Footer...)
	return v.ui.FillHeight(&q)
}

// onPatch adds f to what patching the page does: f brings widgets of the
// page up to date with the machine and reports whether it changed any.
func (v *view) onPatch(f func() bool) { v.patchers = append(v.patchers, f) }

// note is a message above a page's content (what the last action did), if
// key is set.
func (v *view) note(key string) []display.Widget {
	if key != "" {
		return []display.Widget{label("account.note", key)}
	}
	return nil
}
