package appliance

import (
	"github.com/nhikiosk/nhikiosk/display"
)

// build returns the page for the machine's screen: a shared screen's, or
// the current flow's. Every page's footer gets the language switch in
// front (show adds it).
func (v *view) build() *display.Page {
	m := v.m
	switch m.screen {
	case ScreenAttract:
		return v.attractPage()
	case ScreenReading:
		return v.waitPage("reading", "reading.title", "reading.body")
	case ScreenCheckingCard:
		return v.waitPage(string(ScreenCheckingCard), "checking.title", "checking.body")
	case ScreenCardError:
		return v.cardErrorPage()
	case ScreenMenu:
		return v.menuPage()
	case ScreenBusy:
		return v.waitPage("busy", m.sess.busyKey, "busy.wait")
	case ScreenResult:
		return v.messagePage("result", "result.title", m.sess.resultKey, "receipt.take_card", v.button(IDFinish, "btn.finish", display.Primary))
	case ScreenError:
		return v.errorPage()
	case ScreenHelp:
		return v.messagePage("help", "help.title", "help.text", "", v.button(IDBack, "btn.back", display.Secondary))
	case ScreenRemoved:
		return v.messagePage("removed", "removed.title", "removed.body", "")
	case ScreenOutOfService:
		return v.outOfServicePage()
	}
	if f := m.flow(); f != nil {
		return f.page(m.wizard(), v)
	}
	return &display.Page{ID: string(m.screen)}
}

func label(id, key string) *display.Label { return display.NewLabel(id, display.M(key)) }

func lit(id, s string) *display.Label { return display.NewLabel(id, display.Lit(s)) }

// said gives a label composed of texts and values its spoken form: the
// catalog messages and values it is made of (issue 20), so audio mode
// says "card number" and the digits, not the line spelled out.
func said(l *display.Label, msgs ...display.Msg) *display.Label {
	l.Speech = msgs
	return l
}

func (v *view) attractPage() *display.Page {
	title := label("attract.title", "attract.title")
	title.Size, title.Align = display.SizeTitle, 1
	how := label("attract.how", "attract.how")
	how.Align = 1
	// On a tall panel the picture grows into the room there is.
	pic := display.NewPicture("attract.picture", insertCardPicture(), max(150, v.bodyDp()/3))
	pic.Alt = display.M("attract.how")
	what := label("attract.what", "attract.what")
	privacy := label("attract.privacy", "attract.privacy")
	privacy.Muted, privacy.Size = true, display.SizeSmall
	return &display.Page{
		ID:     string(ScreenAttract),
		Header: display.NewHeader("header", display.M("app.title"), 0, 0),
		Body:   []display.Widget{title, pic, how, what, privacy},
		Footer: []display.Widget{v.button(IDHelp, "btn.help", display.Secondary)},
	}
}

// waitPage is a spinner and what is being waited for.
func (v *view) waitPage(id, titleKey, bodyKey string) *display.Page {
	t := label(id+".title", titleKey)
	t.Size, t.Align = display.SizeTitle, 1
	b := label(id+".body", bodyKey)
	b.Align = 1
	return &display.Page{
		ID:     id,
		Header: display.NewHeader("header", display.M("app.title"), 0, 0),
		Body:   []display.Widget{display.NewSpinner("spinner"), t, b},
	}
}

// messagePage is a title, a message, an optional second message and the
// buttons given.
func (v *view) messagePage(id, titleKey, bodyKey, noteKey string, buttons ...display.Widget) *display.Page {
	body := []display.Widget{label(id+".body", bodyKey)}
	if noteKey != "" {
		n := label(id+".note", noteKey)
		n.Muted = true
		body = append(body, n)
	}
	return &display.Page{
		ID:     id,
		Header: display.NewHeader("header", display.M(titleKey), 0, 0),
		Body:   body,
		Footer: buttons,
	}
}

func (v *view) cardErrorPage() *display.Page {
	buttons := []display.Widget{v.button(IDHelp, "btn.help", display.Secondary), v.button(IDRetry, "btn.retry", display.Primary)}
	if v.m.sess.check != nil { // a card check: back to the service's screen
		buttons = append([]display.Widget{v.button(IDBack, "btn.back", display.Secondary)}, buttons...)
	}
	p := v.messagePage(string(ScreenCardError), "card_error.title", v.m.sess.cardErrKey, "", buttons...)
	p.Body = append([]display.Widget{display.NewPicture("attract.picture", insertCardPicture(), 120)}, p.Body...)
	return p
}

// menuPage lists the services (menuFlows) the upstream offers, the first
// as the primary button, then help with card reading.
func (v *view) menuPage() *display.Page {
	var body []display.Widget
	for _, e := range menuFlows {
		if !v.m.offers(e) {
			continue
		}
		style := display.Secondary
		if len(body) == 0 {
			style = display.Primary
		}
		body = append(body, v.button(e.id, e.label, style))
	}
	body = append(body, v.button(IDCardHelp, "menu.help", display.Secondary))
	return &display.Page{
		ID:     string(ScreenMenu),
		Header: display.NewHeader("header", display.M("menu.title"), 0, 0),
		Body:   body,
		Footer: []display.Widget{v.button(IDFinish, "menu.finish", display.Secondary)},
	}
}

// errorPage says what the upstream refused and offers the services that
// lead on (the first as the primary button).
func (v *view) errorPage() *display.Page {
	kind := v.m.sess.errKind
	var next []display.Widget
	for i, e := range v.m.nextSteps() {
		style := display.Secondary
		if i == 0 {
			style = display.Primary
		}
		next = append(next, v.button(e.id, e.label, style))
	}
	key := "error." + kind
	if !v.ui.Catalog().Has(v.m.lang, key) {
		key = "error.rejected"
	}
	p := v.messagePage(string(ScreenError), "error.title", key, "")
	p.Body = append(p.Body, next...)
	p.Footer = []display.Widget{v.button(IDMenu, "btn.menu", display.Secondary)}
	return p
}

// formPage is a service's page of one screen: what it does, its fields,
// and back and the button that sends them.
func (v *view) formPage(titleKey, introKey, submitKey string, fields ...display.Widget) *display.Page {
	id := string(v.m.screen)
	return &display.Page{
		ID:     id,
		Header: display.NewHeader("header", display.M(titleKey), 0, 0),
		Body:   append([]display.Widget{label(id+".intro", introKey)}, fields...),
		Footer: []display.Widget{v.button(IDBack, "btn.back", display.Secondary), v.button(IDSubmit, submitKey, display.Primary)},
	}
}
