package appliance

import (
	"math"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
)

// page is the code as 8 digits and a QR code with a countdown (or the
// masked mobile the SMS went to), the code's expiry, or the device that
// was linked.
func (b *binding) page(w wizard, v *view) *display.Page {
	back := v.button(IDBack, "btn.back", display.Secondary)
	p := &display.Page{ID: string(w.screen()), Header: display.NewHeader("header", display.M("bind.title"), 0, 0)}
	switch w.screen() {
	case ScreenBind:
		c := b.code
		if c.b.Via == ViaSMS {
			sent := said(lit("bind.sent", v.text("bind.sent", "to", c.b.SentTo)), display.M("bind.sent", "to", c.b.SentTo))
			sent.Size = display.SizeTitle
			p.Body = []display.Widget{sent, newCountdown("bind.countdown", c.deadline)}
			p.Footer = []display.Widget{back}
			break
		}
		code := lit("bind.code", spaced(c.b.Code))
		code.Size, code.Align = display.SizeTitle*1.5, 1
		p.Body = []display.Widget{label("bind.intro", "bind.intro"), code}
		if qr, err := display.NewQR("bind.qr", c.b.Code, min(220, max(120, v.bodyDp()/3))); err == nil {
			p.Body = append(p.Body, qr)
		}
		p.Body = append(p.Body, newCountdown("bind.countdown", c.deadline))
		p.Footer = []display.Widget{back}
	case ScreenBindExpired:
		p.Body = []display.Widget{label("bind.expired", "bind.expired")}
		p.Footer = []display.Widget{back, v.button(IDNewCode, "bind.new_code", display.Primary)}
	case ScreenLinked:
		name := said(lit("linked.name", v.text("linked.body", "name", b.linked)), display.M("linked.body", "name", b.linked))
		name.Size = display.SizeTitle
		p.Body = []display.Widget{name}
		p.Footer = []display.Widget{back, v.button(IDLogout, "account.logout", display.Primary)}
	}
	return p
}

// spaced writes an 8-digit code as two groups of 4, easier to type.
func spaced(code string) string {
	if len(code) != 8 {
		return code
	}
	return code[:4] + " " + code[4:]
}

// countdown is a label that shows the minutes and seconds left until its
// deadline, updated as the display's clock runs.
type countdown struct {
	*display.Label
	deadline time.Time
	shown    int
}

func newCountdown(id string, deadline time.Time) *countdown {
	l := display.NewLabel(id, display.M("bind.countdown", "time", "5:00"))
	l.Align = 1
	return &countdown{Label: l, deadline: deadline, shown: -1}
}

// Animate changes the text when the whole seconds left change, and asks
// to run again at the next change.
func (w *countdown) Animate(c *display.Ctx) {
	left := max(0, int(math.Ceil(w.deadline.Sub(c.Now()).Seconds())))
	if left > 0 {
		c.WakeAt(w.deadline.Add(-time.Duration(left-1) * time.Second))
	}
	if left == w.shown {
		return
	}
	w.shown = left
	w.SetText(c, display.M("bind.countdown", "time", mmss(left)))
	// Said as minutes and seconds, not "4 colon 5 9" (issue 20).
	w.Speech = []display.Msg{display.M("bind.countdown", "time", time.Duration(left)*time.Second)}
}

func mmss(s int) string {
	return itoa(s/60) + ":" + itoa(s%60/10) + itoa(s%10)
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
