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
		ver := lit("terms.version", v.text("terms.version", "v", r.termsShown))
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
	return lit(id, v.pair(key, value))
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

// reviewSection is a section title with its edit button, then its lines.
func reviewSection(v *view, titleKey, editID string, lines ...string) []display.Widget {
	t := label("review."+titleKey, "review."+titleKey)
	t.Size = display.SizeTitle
	head := display.Widget(t)
	if editID != "" {
		head = display.NewRow("", t, v.button(editID, "btn.edit", display.Secondary))
	}
	out := []display.Widget{head}
	for i, l := range lines {
		out = append(out, lit("review."+titleKey+"."+string(rune('a'+i)), l))
	}
	return out
}

func (r *registration) reviewPage(w wizard, v *view) *display.Page {
	p := w.person()
	none := v.text("review.none")
	or := func(s string) string {
		if s == "" {
			return none
		}
		return s
	}
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
	body = append(body, reviewSection(v, "card", "", v.pair("card.number", string(p.card.CardNumber)),
		v.pair("card.id", maskID(p.card.IDNumber)), v.pair("card.name", string(p.card.Name)))...)
	body = append(body, reviewSection(v, "household", IDEditHousehold, p.value(FieldHousehold))...)
	body = append(body, reviewSection(v, "address", IDEditAddress, addr)...)
	body = append(body, reviewSection(v, "password", IDEditPassword, v.text("review.password_hidden"))...)
	body = append(body, reviewSection(v, "contact", IDEditContact,
		v.pair("field.phone_number", or(phone)), v.pair("field.mobile", or(p.value(FieldMobile))),
		v.pair("field.email", p.value(FieldEmail)), v.pair("field.backup_email", or(p.value(FieldBackupEmail))))...)
	terms := lit("review.terms", v.text("review.terms", "v", r.termsAccepted))
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
		ref := lit("receipt.reference", v.text("receipt.reference", "ref", r.reference))
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
