package display

import (
	"image"
	"strings"
)

// Key actions beyond typing.
const (
	actType = iota
	actShift
	actSymbols
	actLetters
)

// keyCap is one key of an on-screen keyboard. Its ID is "key." followed by
// what it types in the current layer ("key.a", "key.A", "key.@",
// "key..com.tw") or its function ("key.shift", "key.symbols",
// "key.letters", "key.backspace", "key.enter", "key.space").
type keyCap struct {
	Base
	label   Msg
	icon    Icon
	hasIcon bool
	ev      Event
	action  int
	weight  float64
	pressed bool
	fire    func(c *Ctx, k *keyCap)
}

// Measure returns the key height.
func (k *keyCap) Measure(c *Ctx, w int) int { return keyH(c) }

func keyH(c *Ctx) int { return max(c.Dp(50), c.ui.MinTargetPx()) }

// Draw draws the cap and its label or icon.
func (k *keyCap) Draw(c *Ctx, dst *image.RGBA) {
	t := c.Theme()
	bg := t.Key
	if k.pressed {
		bg = t.KeyPressed
	}
	rad := c.Dp(6)
	c.P.RoundRect(dst, k.R, rad, bg)
	if t.Name == "high-contrast" {
		c.P.Outline(dst, k.R, rad, max(1, c.Dp(1.5)), t.Border)
	}
	in := k.R.Inset(c.Dp(4))
	if k.hasIcon {
		c.P.DrawIcon(dst, in.Inset(c.Dp(4)), k.icon, t.OnKey)
		return
	}
	s := c.S(k.label)
	// Key caps shrink their label to fit rather than wrap: a cap is one
	// symbol or one word (".com.tw") and must stay on one line.
	px := c.FontPx(22)
	for px > c.Dp(12) && (c.Font().Width(s, px) > in.Dx() || c.LineHeight(px) > in.Dy()) {
		px--
	}
	c.Text(dst, k.Name, s, px, in, 1, t.OnKey)
}

// Handle fires the key on a release inside it.
func (k *keyCap) Handle(c *Ctx, ev Event) bool {
	return press(c, &k.pressed, k.R, ev, func() { k.fire(c, k) })
}

func typeKey(id, s string) *keyCap {
	k := &keyCap{Base: Base{Name: "key." + s}, label: Lit(s), weight: 1}
	if r := []rune(s); len(r) == 1 {
		k.ev = Event{Kind: KeyPress, Rune: r[0]}
	} else {
		k.ev = Event{Kind: KeyPress, Text: s}
	}
	if id != "" {
		k.Name = id
	}
	return k
}

func funcKey(id string, label Msg, ev Event, action int, weight float64) *keyCap {
	return &keyCap{Base: Base{Name: id}, label: label, ev: ev, action: action, weight: weight}
}

func iconKey(id string, ic Icon, ev Event, action int, weight float64) *keyCap {
	k := funcKey(id, Msg{}, ev, action, weight)
	k.icon, k.hasIcon = ic, true
	return k
}

// keyRows lays out rows of keys with weights, each row centred.
type keyRows struct {
	Base
	rows  [][]*keyCap
	units float64 // widest row in weight units
}

// Children returns every key.
func (kr *keyRows) Children() []Widget {
	var ws []Widget
	for _, r := range kr.rows {
		for _, k := range r {
			ws = append(ws, k)
		}
	}
	return ws
}

// Measure returns the height of all rows.
func (kr *keyRows) Measure(c *Ctx, w int) int {
	gap := c.Dp(6)
	return len(kr.rows)*keyH(c) + (len(kr.rows)+1)*gap
}

// Layout places the rows, each centred, keys sized by weight.
func (kr *keyRows) Layout(c *Ctx, r image.Rectangle) {
	kr.R = r
	gap := c.Dp(6)
	units := kr.units
	for _, row := range kr.rows {
		u := 0.0
		for _, k := range row {
			u += k.weight
		}
		units = max(units, u)
	}
	unit := float64(r.Dx()-gap) / units
	y := r.Min.Y + gap
	for _, row := range kr.rows {
		u := 0.0
		for _, k := range row {
			u += k.weight
		}
		x := float64(r.Min.X+gap) + (units-u)*unit/2
		for _, k := range row {
			x1 := x + k.weight*unit
			k.Layout(c, image.Rect(int(x), y, int(x1)-gap, y+keyH(c)))
			x = x1
		}
		y += keyH(c) + gap
	}
}

// Draw draws the keyboard background and the keys.
func (kr *keyRows) Draw(c *Ctx, dst *image.RGBA) {
	c.P.Fill(dst, kr.R, c.Theme().KeyboardBg)
	for _, row := range kr.rows {
		for _, k := range row {
			if k.R.Overlaps(dst.Rect) {
				k.Draw(c, dst)
			}
		}
	}
}

// Keyboard is the on-screen QWERTY keyboard: letters with a one-shot
// shift, a symbols layer, and for e-mail fields a row of "@", ".com",
// ".com.tw", ".gov.tw", ".edu.tw".
type Keyboard struct {
	keyRows
	shift, symbols, email bool
}

// NewKeyboard returns the QWERTY keyboard in its letters layer.
func NewKeyboard() *Keyboard {
	kb := &Keyboard{}
	kb.Name = "keyboard"
	kb.build()
	return kb
}

// SetEmail shows or hides the e-mail row.
func (kb *Keyboard) SetEmail(on bool) {
	kb.email, kb.shift, kb.symbols = on, false, false
	kb.build()
}

func (kb *Keyboard) build() {
	letters := []string{"qwertyuiop", "asdfghjkl", "zxcvbnm"}
	if kb.symbols {
		letters = []string{"1234567890", "!@#$%^&*()", "-_=+.,?/"}
	}
	kb.rows = nil
	for i, l := range letters {
		if kb.shift && !kb.symbols {
			l = strings.ToUpper(l)
		}
		var row []*keyCap
		for _, r := range l {
			row = append(row, kb.own(typeKey("", string(r))))
		}
		if i == 2 {
			left := iconKey("key.shift", IconShift, Event{}, actShift, 1.5)
			if kb.symbols {
				left = funcKey("key.letters", M("display.key.letters"), Event{}, actLetters, 1.5)
			}
			bs := iconKey("key.backspace", IconBackspace, Event{Kind: KeyPress, Key: KeyBackspace}, actType, 1.5)
			row = append(append([]*keyCap{kb.own(left)}, row...), kb.own(bs))
		}
		kb.rows = append(kb.rows, row)
	}
	if kb.email {
		var row []*keyCap
		for _, s := range []string{"@", ".com", ".com.tw", ".gov.tw", ".edu.tw"} {
			k := typeKey("", s)
			k.weight = 2
			row = append(row, kb.own(k))
		}
		kb.rows = append(kb.rows, row)
	}
	mode := funcKey("key.symbols", M("display.key.symbols"), Event{}, actSymbols, 2)
	if kb.symbols {
		mode = funcKey("key.letters", M("display.key.letters"), Event{}, actLetters, 2)
		mode.Name = "key.letters2"
	}
	space := funcKey("key.space", M("display.key.space"), Event{Kind: KeyPress, Rune: ' '}, actType, 5)
	enter := funcKey("key.enter", M("display.key.enter"), Event{Kind: KeyPress, Key: KeyEnter}, actType, 3)
	kb.rows = append(kb.rows, []*keyCap{kb.own(mode), kb.own(space), kb.own(enter)})
	kb.units = 10
}

func (kb *Keyboard) own(k *keyCap) *keyCap {
	k.fire = kb.fire
	return k
}

func (kb *Keyboard) fire(c *Ctx, k *keyCap) {
	switch k.action {
	case actShift:
		kb.shift = !kb.shift
	case actSymbols:
		kb.symbols = true
	case actLetters:
		kb.symbols = false
	default:
		c.ui.key(k.ev)
		if !kb.shift || c.ui.kbd != kb {
			return
		}
		kb.shift = false // one-shot
	}
	kb.build()
	kb.Layout(c, kb.R)
	c.Invalidate(kb.R)
}

// Shifted reports whether the next letter is upper case.
func (kb *Keyboard) Shifted() bool { return kb.shift }

// Keypad is the numeric keypad: digits, backspace and done.
type Keypad struct {
	keyRows
}

// NewKeypad returns the keypad.
func NewKeypad() *Keypad {
	kp := &Keypad{}
	kp.Name = "keypad"
	for _, l := range []string{"123", "456", "789"} {
		var row []*keyCap
		for _, r := range l {
			row = append(row, kp.own(typeKey("", string(r))))
		}
		kp.rows = append(kp.rows, row)
	}
	bs := iconKey("key.backspace", IconBackspace, Event{Kind: KeyPress, Key: KeyBackspace}, actType, 1)
	enter := funcKey("key.enter", M("display.key.enter"), Event{Kind: KeyPress, Key: KeyEnter}, actType, 1)
	kp.rows = append(kp.rows, []*keyCap{kp.own(bs), kp.own(typeKey("", "0")), kp.own(enter)})
	kp.units = 3
	return kp
}

func (kp *Keypad) own(k *keyCap) *keyCap {
	k.fire = func(c *Ctx, k *keyCap) { c.ui.key(k.ev) }
	return k
}

// Layout centres the keypad in at most 480 dp of width.
func (kp *Keypad) Layout(c *Ctx, r image.Rectangle) {
	w := min(r.Dx(), c.Dp(480))
	inner := image.Rect(r.Min.X+(r.Dx()-w)/2, r.Min.Y, r.Min.X+(r.Dx()+w)/2, r.Max.Y)
	kp.keyRows.Layout(c, inner)
	kp.R = r
}
