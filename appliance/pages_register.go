package appliance

import (
	"strings"

	"github.com/nhikiosk/nhikiosk/display"
)

// registerFooter is back and next (or the given primary button).
func (v *view) registerFooter(primary *display.Button) []display.Widget {
	if primary == nil {
		primary = v.button(IDNext, "btn.next", display.Primary)
	}
	return []display.Widget{v.button(IDBack, "btn.back", display.Secondary), primary}
}

func (v *view) termsPage() *display.Page {
	s := v.m.sess
	hint := label("terms.hint", "terms.hint")
	hint.Muted = true
	body := []display.Widget{hint}
	if s.termsLoading {
		body = append(body, display.NewSpinner("spinner"), label("terms.loading", "terms.loading"))
	} else {
		st := display.NewScrollText("terms.text", display.Lit(v.m.termsText()), max(160, v.bodyDp()-60))
		st.OnEnd = func() { v.post(ScrolledToEnd{}) }
		ver := lit("terms.version", v.text("terms.version", "v", s.termsShown))
		ver.Muted, ver.Size = true, display.SizeSmall
		body = append(body, st, ver)
	}
	v.agree = v.button(IDAgree, "terms.agree", display.Primary)
	v.agree.Disabled = true
	return &display.Page{ID: string(ScreenTerms), Header: v.registerHeader("terms.title"), Body: body, Footer: v.registerFooter(v.agree)}
}

// readOnly is one "label: value" line of data from the card.
func (v *view) readOnly(id, key, value string) *display.Label {
	return lit(id, v.pair(key, value))
}

func (v *view) cardPage() *display.Page {
	c := v.m.sess.p.card
	intro := label("card.intro", "card.intro")
	intro.Muted = true
	return &display.Page{
		ID:     string(ScreenCard),
		Header: v.registerHeader("card.title"),
		Body: []display.Widget{intro,
			v.readOnly("card.number", "card.number", string(c.CardNumber)),
			v.readOnly("card.id", "card.id", maskID(c.IDNumber)),
			v.readOnly("card.name", "card.name", string(c.Name)),
		},
		Footer: v.registerFooter(nil),
	}
}

func (v *view) householdPage() *display.Page {
	help := label("household.help", "household.help")
	help.Muted = true
	return &display.Page{
		ID:     string(ScreenHousehold),
		Header: v.registerHeader("household.title"),
		Body:   []display.Widget{help, v.field(FieldHousehold, "field.household")},
		Footer: v.registerFooter(nil),
	}
}

func (v *view) divisionText(d *Division) string {
	if v.m.lang == LangEn && d.En != "" {
		return d.En
	}
	return d.Zh
}

// addressPage shows what was picked so far, with a way to change each
// level, and the list of the next level; once every level is picked, the
// neighbourhood on the numeric keypad.
func (v *view) addressPage() *display.Page {
	m, p := v.m, v.m.sess.p
	help := label("address.help", "address.help")
	help.Muted = true
	body := []display.Widget{help}
	if e := v.m.sess.errs[FieldAddress]; e != "" {
		body = append(body, label("address.error", v.errKey(FieldAddress, e)))
	}
	levels := []struct {
		d             *Division
		key, changeID string
	}{
		{m.countyByCode(p.county), "address.county", IDChangeCounty},
		{m.townshipByCode(p.township), "address.township", IDChangeTownship},
		{m.villageByCode(p.village), "address.village", IDChangeVillage},
	}
	for _, l := range levels {
		if l.d == nil {
			break
		}
		body = append(body, display.NewRow("", lit(l.changeID+".value", v.pair(l.key, v.divisionText(l.d))),
			v.button(l.changeID, "btn.change", display.Secondary)))
	}
	var list []Division
	var listID, pick string
	switch c, t := m.countyByCode(p.county), m.townshipByCode(p.township); {
	case c == nil:
		list, listID, pick = m.divisions, "county", "address.pick_county"
	case t == nil && len(c.Children) > 0:
		list, listID, pick = c.Children, "township", "address.pick_township"
	case t != nil && len(t.Children) > 0 && m.villageByCode(p.village) == nil:
		list, listID, pick = t.Children, "village", "address.pick_village"
	}
	if listID != "" {
		items := make([]display.Item, len(list))
		for i := range list {
			items[i] = display.Item{ID: list[i].Code, Text: display.Lit(v.divisionText(&list[i]))}
		}
		lp := display.NewListPicker(listID, max(160, v.bodyDp()-90), display.Section{Items: items})
		lp.OnSelect = func(it display.Item) { v.post(Tap{ID: listID + "." + it.ID}) }
		body = append(body, label("address.pick", pick), lp)
	} else {
		body = append(body, v.field(FieldNeighbourhood, "field.neighbourhood"))
	}
	return &display.Page{ID: string(ScreenAddress), Header: v.registerHeader("address.title"), Body: body, Footer: v.registerFooter(nil)}
}

func (v *view) passwordPage() *display.Page {
	help := label("password.help", "password.help")
	help.Muted = true
	return &display.Page{
		ID:     string(ScreenPassword),
		Header: v.registerHeader("password.title"),
		Body: []display.Widget{help, v.field(FieldPassword, "field.password"), newStrengthMeter(v.m, FieldPassword),
			v.field(FieldPassword2, "field.password2")},
		Footer: v.registerFooter(nil),
	}
}

func (v *view) contactPage() *display.Page {
	s := v.m.sess
	mobileHelp := label("mobile.help", "mobile.help")
	mobileHelp.Muted, mobileHelp.Size = true, display.SizeSmall
	emailHelp := label("email.help", "email.help")
	emailHelp.Muted, emailHelp.Size = true, display.SizeSmall
	body := []display.Widget{
		display.NewRow("phone", v.field(FieldPhoneArea, "field.phone_area"), v.field(FieldPhoneNumber, "field.phone_number"), v.field(FieldPhoneExt, "field.phone_ext")),
		v.field(FieldMobile, "field.mobile"), mobileHelp,
		v.field(FieldEmail, "field.email"), emailHelp,
	}
	if microsoftMail(s.p.value(FieldEmail)) || microsoftMail(s.p.value(FieldBackupEmail)) {
		body = append(body, label("email.ms_warning", "email.ms_warning"))
	}
	body = append(body, v.field(FieldBackupEmail, "field.backup_email"))
	return &display.Page{ID: string(ScreenContact), Header: v.registerHeader("contact.title"), Body: body, Footer: v.registerFooter(nil)}
}

// reviewSection is a section title with its edit button, then its lines.
func (v *view) reviewSection(titleKey, editID string, lines ...string) []display.Widget {
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

func (v *view) reviewPage() *display.Page {
	m, p := v.m, v.m.sess.p
	none := v.text("review.none")
	or := func(s string) string {
		if s == "" {
			return none
		}
		return s
	}
	names := func(ds ...*Division) []string {
		var out []string
		for _, d := range ds {
			if d != nil {
				out = append(out, v.divisionText(d))
			}
		}
		return out
	}
	n := strings.TrimLeft(p.value(FieldNeighbourhood), "0")
	parts := names(m.countyByCode(p.county), m.townshipByCode(p.township), m.villageByCode(p.village))
	addr := strings.Join(parts, "") + n + "鄰"
	if m.lang == LangEn {
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
		addr = "Neighbourhood " + n + ", " + strings.Join(parts, ", ")
	}
	phone := p.value(FieldPhoneArea) + "-" + p.value(FieldPhoneNumber)
	if p.value(FieldPhoneNumber) == "" {
		phone = ""
	} else if ext := p.value(FieldPhoneExt); ext != "" {
		phone += " #" + ext
	}
	intro := label("review.intro", "review.intro")
	intro.Muted = true
	body := []display.Widget{intro}
	body = append(body, v.reviewSection("card", "", v.pair("card.number", string(p.card.CardNumber)),
		v.pair("card.id", maskID(p.card.IDNumber)), v.pair("card.name", string(p.card.Name)))...)
	body = append(body, v.reviewSection("household", IDEditHousehold, p.value(FieldHousehold))...)
	body = append(body, v.reviewSection("address", IDEditAddress, addr)...)
	body = append(body, v.reviewSection("password", IDEditPassword, v.text("review.password_hidden"))...)
	body = append(body, v.reviewSection("contact", IDEditContact,
		v.pair("field.phone_number", or(phone)), v.pair("field.mobile", or(p.value(FieldMobile))),
		v.pair("field.email", p.value(FieldEmail)), v.pair("field.backup_email", or(p.value(FieldBackupEmail))))...)
	terms := lit("review.terms", v.text("review.terms", "v", m.sess.termsAccepted))
	terms.Muted, terms.Size = true, display.SizeSmall
	body = append(body, terms)
	return &display.Page{ID: string(ScreenReview), Header: v.registerHeader("review.title"), Body: body,
		Footer: v.registerFooter(v.button(IDSubmit, "btn.submit", display.Primary))}
}

func (v *view) receiptPage() *display.Page {
	s := v.m.sess
	title, body := "receipt.title", []display.Widget{}
	if s.queued {
		title = "receipt.queued_title"
		body = append(body, label("receipt.queued", "receipt.queued"))
	} else {
		ref := lit("receipt.reference", v.text("receipt.reference", "ref", s.reference))
		ref.Size = display.SizeTitle
		body = append(body, ref)
		if qr, err := display.NewQR("receipt.qr", s.reference, 140); err == nil {
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
