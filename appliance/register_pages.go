package appliance

import (
	"slices"
	"strconv"

	"github.com/nhikiosk/nhikiosk/display"
)

func (r *registration) page(w wizard, v *view) *display.Page {
	switch w.screen() {
	case ScreenTerms:
		return r.termsPage(w, v)
	case ScreenCard:
		return r.cardPage(w, v)
	case ScreenHousehold:
		return r.householdPage(w, v)
	case ScreenAddress:
		return r.addressPage(w, v)
	case ScreenPassword:
		return r.passwordPage(w, v)
	case ScreenContact:
		return r.contactPage(w, v)
	case ScreenReview:
		return r.reviewPage(w, v)
	}
	return r.receiptPage(w, v)
}

// header is the header of the registration step on screen, with where it
// is among the steps.
func (r *registration) header(w wizard, title string) *display.Header {
	i := slices.Index(registerSteps, w.screen())
	return display.NewHeader("header", display.M(title), i+1, len(registerSteps))
}

// footer is back and next (or the given primary button).
func (r *registration) footer(v *view, primary *display.Button) []display.Widget {
	if primary == nil {
		primary = v.button(IDNext, "btn.next", display.Primary)
	}
	return []display.Widget{v.button(IDBack, "btn.back", display.Secondary), primary}
}

func (r *registration) termsPage(w wizard, v *view) *display.Page {
	hint := label("terms.hint", "terms.hint")
	hint.Muted = true
	body := []display.Widget{hint}
	if r.termsLoading {
		body = append(body, display.NewSpinner("spinner"), label("terms.loading", "terms.loading"))
	} else {
		st := display.NewScrollText("terms.text", display.Lit(r.text(w)), max(160, v.bodyDp()-60))
		st.OnEnd = func() { v.post(ScrolledToEnd{}) }
		st.Speech = termsSpeech(r.termsShown)
		ver := said(lit("terms.version", v.text("terms.version", "v", r.termsShown)), display.M("terms.version", "v", r.termsShown))
		ver.Muted, ver.Size = true, display.SizeSmall
		body = append(body, st, ver)
	}
	agree := v.button(IDAgree, "terms.agree", display.Primary)
	agree.Disabled = true
	v.onPatch(func() bool {
		dis := !r.termsAtEnd || r.termsLoading
		if agree.Disabled == dis {
			return false
		}
		agree.Disabled = dis
		return true
	})
	return &display.Page{ID: string(ScreenTerms), Header: r.header(w, "terms.title"), Body: body, Footer: r.footer(v, agree)}
}

// readOnly is one "label: value" line of data from the card.
func readOnly(v *view, id, key, value string) *display.Label {
	return said(lit(id, v.pair(key, value)), display.M(key), display.Lit(value))
}

func (r *registration) cardPage(w wizard, v *view) *display.Page {
	c := w.person().card
	intro := label("card.intro", "card.intro")
	intro.Muted = true
	return &display.Page{
		ID:     string(ScreenCard),
		Header: r.header(w, "card.title"),
		Body: []display.Widget{intro,
			readOnly(v, "card.number", "card.number", string(c.CardNumber)),
			readOnly(v, "card.id", "card.id", maskID(c.IDNumber)),
			readOnly(v, "card.name", "card.name", string(c.Name)),
		},
		Footer: r.footer(v, nil),
	}
}

func (r *registration) householdPage(w wizard, v *view) *display.Page {
	help := label("household.help", "household.help")
	help.Muted = true
	return &display.Page{
		ID:     string(ScreenHousehold),
		Header: r.header(w, "household.title"),
		Body:   []display.Widget{help, v.field(FieldHousehold, "field.household")},
		Footer: r.footer(v, nil),
	}
}

func (r *registration) passwordPage(w wizard, v *view) *display.Page {
	help := label("password.help", "password.help")
	help.Muted = true
	return &display.Page{
		ID:     string(ScreenPassword),
		Header: r.header(w, "password.title"),
		Body: []display.Widget{help, v.field(FieldPassword, "field.password"), v.strengthMeter(FieldPassword),
			v.field(FieldPassword2, "field.password2")},
		Footer: r.footer(v, nil),
	}
}

func (r *registration) contactPage(w wizard, v *view) *display.Page {
	p := w.person()
	mobileHelp := label("mobile.help", "mobile.help")
	mobileHelp.Muted, mobileHelp.Size = true, display.SizeSmall
	emailHelp := label("email.help", "email.help")
	emailHelp.Muted, emailHelp.Size = true, display.SizeSmall
	body := []display.Widget{
		display.NewRow("phone", v.field(FieldPhoneArea, "field.phone_area"), v.field(FieldPhoneNumber, "field.phone_number"), v.field(FieldPhoneExt, "field.phone_ext")),
		v.field(FieldMobile, "field.mobile"), mobileHelp,
		v.field(FieldEmail, "field.email"), emailHelp,
	}
	if microsoftMail(p.value(FieldEmail)) || microsoftMail(p.value(FieldBackupEmail)) {
		body = append(body, label("email.ms_warning", "email.ms_warning"))
	}
	body = append(body, v.field(FieldBackupEmail, "field.backup_email"))
	return &display.Page{ID: string(ScreenContact), Header: r.header(w, "contact.title"), Body: body, Footer: r.footer(v, nil)}
}

// line is a line of the review: its text, and what it says (issue 20).
type line struct {
	text string
	say  []display.Msg
}

// reviewSection is a section title with its edit button, then its lines.
func reviewSection(v *view, titleKey, editID string, lines ...line) []display.Widget {
	t := label("review."+titleKey, "review."+titleKey)
	t.Size = display.SizeTitle
	head := display.Widget(t)
	if editID != "" {
		head = display.NewRow("", t, v.button(editID, "btn.edit", display.Secondary))
	}
	out := []display.Widget{head}
	for i, l := range lines {
		out = append(out, said(lit("review."+titleKey+"."+string(rune('a'+i)), l.text), l.say...))
	}
	return out
}

func (r *registration) reviewPage(w wizard, v *view) *display.Page {
	p := w.person()
	none := v.text("review.none")
	n, _ := strconv.Atoi(p.value(FieldNeighbourhood))
	addr := addressText(w, p.county, p.township, p.village, n)
	phone := p.value(FieldPhoneArea) + "-" + p.value(FieldPhoneNumber)
	if p.value(FieldPhoneNumber) == "" {
		phone = ""
	} else if ext := p.value(FieldPhoneExt); ext != "" {
		phone += " #" + ext
	}
	intro := label("review.intro", "review.intro")
	intro.Muted = true
	body := []display.Widget{intro}
	pair := func(key, value string) line {
		return line{v.pair(key, value), []display.Msg{display.M(key), display.Lit(value)}}
	}
	plain := func(s string, say ...display.Msg) line { return line{s, say} }
	optional := func(key, value string) line {
		if value == "" {
			return line{v.pair(key, none), []display.Msg{display.M(key), display.M("review.none")}}
		}
		return pair(key, value)
	}
	var sayAddr []display.Msg
	for _, d := range []*Division{r.county(w), r.township(w), r.village(w)} {
		if d != nil {
			sayAddr = append(sayAddr, display.Lit(d.Zh))
		}
	}
	sayAddr = append(sayAddr, display.M("field.neighbourhood"), display.Lit(strconv.Itoa(n)))
	body = append(body, reviewSection(v, "card", "", pair("card.number", string(p.card.CardNumber)),
		pair("card.id", maskID(p.card.IDNumber)), pair("card.name", string(p.card.Name)))...)
	body = append(body, reviewSection(v, "household", IDEditHousehold, plain(p.value(FieldHousehold), display.Lit(p.value(FieldHousehold))))...)
	body = append(body, reviewSection(v, "address", IDEditAddress, plain(addr, sayAddr...))...)
	body = append(body, reviewSection(v, "password", IDEditPassword, plain(v.text("review.password_hidden"), display.M("review.password_hidden")))...)
	body = append(body, reviewSection(v, "contact", IDEditContact,
		optional("field.phone_number", phone), optional("field.mobile", p.value(FieldMobile)),
		pair("field.email", p.value(FieldEmail)), optional("field.backup_email", p.value(FieldBackupEmail)))...)
	terms := said(lit("review.terms", v.text("review.terms", "v", r.termsAccepted)), display.M("review.terms", "v", r.termsAccepted))
	terms.Muted, terms.Size = true, display.SizeSmall
	body = append(body, terms)
	return &display.Page{ID: string(ScreenReview), Header: r.header(w, "review.title"), Body: body,
		Footer: r.footer(v, v.button(IDSubmit, "btn.submit", display.Primary))}
}

func (r *registration) receiptPage(w wizard, v *view) *display.Page {
	a := r.sent
	addr := lit("receipt.address", v.pair("review.address", addressText(w, a.county, a.township, a.village, a.neighbourhood)))
	title, body := "receipt.title", []display.Widget{}
	if r.queued {
		title = "receipt.queued_title"
		body = append(body, label("receipt.queued", "receipt.queued"), addr)
	} else {
		ref := said(lit("receipt.reference", v.text("receipt.reference", "ref", r.reference)), display.M("receipt.reference", "ref", r.reference))
		ref.Size = display.SizeTitle
		body = append(body, ref, addr)
		if qr, err := display.NewQR("receipt.qr", r.reference, 140); err == nil {
			body = append(body, qr, label("receipt.qr.label", "receipt.qr"))
		}
		body = append(body, label("receipt.next", "receipt.next"))
	}
	note := label("receipt.take_card", "receipt.take_card")
	note.Muted = true
	body = append(body, note)
	return &display.Page{ID: string(ScreenReceipt), Header: display.NewHeader("header", display.M(title), 0, 0), Body: body,
		Footer: []display.Widget{v.button(IDFinish, "btn.finish", display.Primary)}}
}
