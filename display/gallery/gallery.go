// Package gallery builds demonstration pages of every display widget, with
// obviously fake data, for golden images, benchmarks and cmd/gallery. It is
// not a screen of the kiosk's wizard and must not be shown to citizens.
package gallery

import (
	"embed"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
)

//go:embed messages/*.json
var messages embed.FS

// AddMessages adds the gallery's catalog keys to cat.
func AddMessages(cat *display.Catalog) error {
	return cat.AddFS(messages, "messages")
}

// Pages names the gallery pages in order.
var Pages = []string{"form", "choose", "status", "idle"}

// Build returns the page named id ("form", "choose" or "status"), wired to
// ui. The form page opens the keyboard on its e-mail field (the heaviest
// screen); "idle" is the status page under the idle dialog with its
// countdown.
func Build(ui *display.UI, id string) *display.Page {
	switch id {
	case "choose":
		return choose()
	case "status", "idle":
		return status(ui)
	}
	return form(ui)
}

// Show builds page id, shows it on ui and puts it in its demonstration
// state (typed values, focus, dialog).
func Show(ui *display.UI, id string) *display.Page {
	p := Build(ui, id)
	ui.SetPage(p)
	switch id {
	case "form":
		fill(ui)
	case "choose":
		ui.Reveal(ui.Find("county"))
	case "idle":
		ui.ShowDialog(idle(ui))
	}
	return p
}

func form(ui *display.UI) *display.Page {
	name := display.NewField("name", display.M("gallery.name"), display.KindText)
	household := display.NewField("household", display.M("gallery.household"), display.KindText)
	household.Hint = display.M("gallery.household.hint")
	household.MaxLen = 8
	pw := display.NewField("password", display.M("gallery.password"), display.KindText)
	pw.Masked, pw.MaxLen = true, 12
	email := display.NewField("email", display.M("gallery.email"), display.KindEmail)
	phone := display.NewField("mobile", display.M("gallery.mobile"), display.KindNumber)
	return &display.Page{
		ID:     "form",
		Header: display.NewHeader("header", display.M("gallery.form.title"), 3, 5),
		Body: []display.Widget{
			display.NewLabel("intro", display.M("gallery.form.intro")),
			name, household, pw,
			display.NewStrengthMeter("strength", pw),
			email, phone,
		},
		Footer: []display.Widget{
			display.NewButton("back", display.M("gallery.back"), display.Secondary, nil),
			display.NewButton("next", display.M("gallery.next"), display.Primary, nil),
		},
	}
}

// fill types fake data (測試一 / TEST ONE) and focuses the e-mail field
// with an error, as a person part-way through the form.
func fill(ui *display.UI) {
	set := func(id, v string) {
		ui.Find(id).(*display.Field).SetValue(nil, []byte(v))
	}
	set("name", "測試一 TEST ONE")
	set("password", "Ab3$ef7h")
	set("email", "test.one@example.com.tw")
	email := ui.Find("email").(*display.Field)
	email.Error = display.M("gallery.email.error")
	ui.SetFocus(email)
}

func choose() *display.Page {
	place := func(k string) display.Item { return display.Item{ID: k, Text: display.M("place." + k)} }
	agree := display.NewCheckbox("agree", display.M("gallery.agree"))
	next := display.NewButton("next", display.M("gallery.next"), display.Primary, nil)
	next.Disabled = true
	terms := display.NewScrollText("terms", display.M("gallery.terms"), 180)
	terms.OnEnd = func() { next.Disabled = false }
	list := display.NewListPicker("county", 300,
		display.Section{Title: display.M("gallery.region.north"), Items: []display.Item{place("taipei"), place("newtaipei"), place("keelung"), place("taoyuan"), place("hsinchu")}},
		display.Section{Title: display.M("gallery.region.central"), Items: []display.Item{place("taichung"), place("changhua"), place("nantou")}},
		display.Section{Title: display.M("gallery.region.south"), Items: []display.Item{place("tainan"), place("kaohsiung"), place("pingtung")}},
		display.Section{Title: display.M("gallery.region.east"), Items: []display.Item{place("hualien"), place("taitung"), place("penghu")}},
	)
	list.Selected = "newtaipei"
	return &display.Page{
		ID:     "choose",
		Header: display.NewHeader("header", display.M("gallery.choose.title"), 2, 5),
		Body: []display.Widget{
			terms, agree,
			display.NewLabel("county.label", display.M("gallery.county")),
			list,
		},
		Footer: []display.Widget{
			display.NewButton("back", display.M("gallery.back"), display.Secondary, nil),
			next,
		},
	}
}

func status(ui *display.UI) *display.Page {
	qr, err := display.NewQR("qr", "https://example.invalid/nhikiosk/help/confirm-email", 200)
	centred := func(id, key string) *display.Label {
		l := display.NewLabel(id, display.M(key))
		l.Align = 1
		return l
	}
	body := []display.Widget{display.NewSpinner("spinner"), centred("sending", "gallery.sending")}
	if err == nil {
		body = append(body, centred("qr.label", "gallery.qr"), qr)
	}
	return &display.Page{
		ID:     "status",
		Header: display.NewHeader("header", display.M("gallery.status.title"), 5, 5),
		Body:   body,
	}
}

func idle(ui *display.UI) *display.Dialog {
	d := display.NewDialog("idle", display.M("gallery.idle.title"), display.M("gallery.idle.body"),
		display.NewButton("idle.end", display.M("gallery.idle.end"), display.Secondary, ui.CloseDialog),
		display.NewButton("idle.continue", display.M("gallery.idle.continue"), display.Primary, ui.CloseDialog))
	d.CountdownKey = "gallery.idle.countdown"
	d.Deadline = ui.Now().Add(18 * time.Second)
	return d
}
