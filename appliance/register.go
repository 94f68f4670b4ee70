package appliance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Screens of the registration.
const (
	ScreenTerms     ScreenID = "terms"
	ScreenCard      ScreenID = "card"
	ScreenHousehold ScreenID = "household"
	ScreenAddress   ScreenID = "address"
	ScreenPassword  ScreenID = "password"
	ScreenContact   ScreenID = "contact"
	ScreenReview    ScreenID = "review"
	ScreenReceipt   ScreenID = "receipt"
)

// Widget ids of the registration. Division choices are "county.<code>",
// "township.<code>", "village.<code>".
const (
	IDRegister       = "menu.register"
	IDAgree          = "terms.agree"
	IDChangeCounty   = "address.county"
	IDChangeTownship = "address.township"
	IDChangeVillage  = "address.village"
	IDEditHousehold  = "edit.household"
	IDEditAddress    = "edit.address"
	IDEditPassword   = "edit.password"
	IDEditContact    = "edit.contact"
)

var registerScreens = map[ScreenID]screenSpec{
	ScreenTerms:     {},
	ScreenCard:      {},
	ScreenHousehold: {fields: []FieldID{FieldHousehold}},
	ScreenAddress:   {fields: []FieldID{FieldNeighbourhood}},
	ScreenPassword:  {fields: []FieldID{FieldPassword, FieldPassword2}},
	ScreenContact:   {fields: []FieldID{FieldPhoneArea, FieldPhoneNumber, FieldPhoneExt, FieldMobile, FieldEmail, FieldBackupEmail}},
	ScreenReview:    {},
	ScreenReceipt:   {},
}

// registerSteps is the order of the registration's screens.
var registerSteps = []ScreenID{ScreenTerms, ScreenCard, ScreenHousehold, ScreenAddress, ScreenPassword, ScreenContact, ScreenReview}

// fieldScreen is the registration screen that owns a field, for upstream
// errors.
var fieldScreen = map[FieldID]ScreenID{
	FieldHousehold:     ScreenHousehold,
	FieldAddress:       ScreenAddress,
	FieldNeighbourhood: ScreenAddress,
	FieldPassword:      ScreenPassword,
	FieldPassword2:     ScreenPassword,
	FieldPhoneArea:     ScreenContact,
	FieldPhoneNumber:   ScreenContact,
	FieldPhoneExt:      ScreenContact,
	FieldMobile:        ScreenContact,
	FieldEmail:         ScreenContact,
	FieldBackupEmail:   ScreenContact,
	FieldCard:          ScreenCard,
}

// registration is the first-time application (首次登入請先申請): the rules,
// the card's data, household number, address, password, contact, review,
// and the receipt.
type registration struct {
	// terms: the version shown, whether it was scrolled to its end, and
	// the version the person accepted; termsText is the built-in text
	// when the upstream's is not cached.
	termsShown, termsAccepted string
	termsAtEnd, termsLoading  bool
	termsText                 string
	// fromReview sends "next" back to the review after an edit.
	fromReview bool
	// The address picker (register_address.go): the level the person
	// opened ("" for the first not chosen yet), and the group of a long
	// list shown ("" for its groups, or the whole list when it fits).
	pickOpen, pickGroup string
	sortedList          sortedList
	// The receipt: the reference, whether the registration was queued in
	// the outbox rather than taken by the upstream, and its address.
	reference string
	queued    bool
	sent      sentAddress
}

func newRegistration() flow { return &registration{} }

func (r *registration) screens() map[ScreenID]screenSpec { return registerScreens }

func (r *registration) start(w wizard) []Job {
	w.goTo(ScreenTerms)
	return r.termsFor(w)
}

func (r *registration) tap(w wizard, id string) []Job {
	switch screen := w.screen(); {
	case screen == ScreenReceipt:
		if id == IDFinish {
			w.finish()
		}
	case id == IDBack && !(screen == ScreenAddress && r.backAddress(w)):
		r.back(w)
	case id == IDBack:
	case screen == ScreenAddress && r.tapAddress(w, id):
	case screen == ScreenReview:
		return r.tapReview(w, id)
	case id == IDAgree && screen == ScreenTerms:
		if !r.termsAtEnd || r.termsLoading {
			return nil // the button is disabled until the end was reached
		}
		r.termsAccepted = r.termsShown
		w.info("terms accepted", "terms_version", r.termsAccepted)
		r.next(w)
	case id == IDNext && screen != ScreenTerms:
		if screen == ScreenAddress && !r.addressComplete(w) {
			w.setErr(FieldAddress, "required")
			w.check()
			return nil
		}
		if w.check() {
			r.next(w)
		}
	}
	return nil
}

// handle takes the rules scrolled to their end, and a language switch
// while they show: the person must read them in the language they accept
// them in. A long list's groups differ between the languages: a language
// switch shows them anew.
func (r *registration) handle(w wizard, ev Event) []Job {
	if _, ok := ev.(langSwitched); ok {
		r.pickGroup = ""
	}
	if w.screen() != ScreenTerms {
		return nil
	}
	switch ev.(type) {
	case ScrolledToEnd:
		if !r.termsLoading {
			r.termsAtEnd = true
		}
	case langSwitched:
		r.termsAtEnd = false
		return r.termsFor(w)
	}
	return nil
}

func (r *registration) layout(w wizard) string {
	p := w.person()
	k := fmt.Sprintf("%t|%s|%s|%s|%s|%s|%s|%s|%p", r.termsLoading, r.termsShown, p.county, p.township, p.village,
		r.pickOpen, r.pickGroup, w.err(FieldAddress), w.divisions())
	if w.screen() == ScreenContact {
		k += fmt.Sprintf("|%t", microsoftMail(p.value(FieldEmail)) || microsoftMail(p.value(FieldBackupEmail)))
	}
	return k
}

// next moves to the next step, or back to the review after an edit.
func (r *registration) next(w wizard) {
	if r.fromReview {
		w.goTo(ScreenReview)
		return
	}
	i := slices.Index(registerSteps, w.screen())
	if i >= 0 && i+1 < len(registerSteps) {
		r.goTo(w, registerSteps[i+1])
	}
}

func (r *registration) back(w wizard) {
	i := slices.Index(registerSteps, w.screen())
	switch {
	case r.fromReview && w.screen() != ScreenReview:
		w.goTo(ScreenReview)
	case i <= 0:
		w.back("")
	default:
		r.goTo(w, registerSteps[i-1])
	}
}

// goTo shows one of the registration's steps; the address shows the
// first level not chosen yet (or the neighbourhood).
func (r *registration) goTo(w wizard, s ScreenID) {
	if s == ScreenAddress {
		r.open("")
	}
	w.goTo(s)
}

// termsFor makes sure the rules of the service are there in the current
// language when the terms screen shows: cached, or fetched (the built-in
// copy stands in if the upstream does not answer).
func (r *registration) termsFor(w wizard) []Job {
	if w.screen() != ScreenTerms {
		return nil
	}
	lang := w.lang()
	if t, ok := w.terms(lang); ok {
		r.termsShown, r.termsLoading = t.Version, false
		return nil
	}
	r.termsLoading, r.termsAtEnd = true, false
	return []Job{w.loadTerms(lang, func(w wizard, t Terms) {
		if w.screen() == ScreenTerms && w.lang() == lang {
			r.termsShown, r.termsLoading, r.termsAtEnd = t.Version, false, false
			r.termsText = t.Text
		}
	})}
}

// text returns the text of the rules on screen.
func (r *registration) text(w wizard) string {
	if t, ok := w.terms(w.lang()); ok {
		return t.Text
	}
	if r.termsText != "" {
		return r.termsText
	}
	return builtinTerms(w.lang()).Text
}

func (r *registration) tapReview(w wizard, id string) []Job {
	edit := map[string]ScreenID{
		IDEditHousehold: ScreenHousehold, IDEditAddress: ScreenAddress,
		IDEditPassword: ScreenPassword, IDEditContact: ScreenContact,
	}
	if to, ok := edit[id]; ok {
		r.fromReview = true
		r.goTo(w, to)
		return nil
	}
	if id == IDSubmit {
		return r.submit(w)
	}
	return nil
}

// submit sends the registration, once every step checks out.
func (r *registration) submit(w wizard) []Job {
	p := w.person()
	for _, step := range registerSteps {
		for _, f := range registerScreens[step].fields {
			if c := checkField(p, f); c != "" {
				w.setErr(f, c)
				w.goTo(step)
				return nil
			}
		}
	}
	return w.checkCard(PurposeRegistration, ScreenReview, func(w wizard, card Identity) []Job {
		w.busy("busy.register")
		reg, up := r.registration(w), w.upstream()
		reg.Identity = card
		return []Job{w.job(func(ctx context.Context) reply {
			rc, err := up.Register(ctx, reg)
			return func(w wizard) []Job {
				if err != nil {
					return r.refused(w, err)
				}
				r.registered(w, rc.Reference, rc.Queued)
				return nil
			}
		})}
	})
}

// registration copies the session's data into the request, for one call.
func (r *registration) registration(w wizard) Registration {
	p := w.person()
	n, _ := strconv.Atoi(p.value(FieldNeighbourhood))
	return Registration{
		TermsVersion:  r.termsAccepted,
		Lang:          w.lang(),
		Identity:      w.identity(),
		Name:          string(p.card.Name),
		BirthDate:     string(p.card.BirthDate),
		Household:     p.value(FieldHousehold),
		CountyCode:    p.county,
		TownshipCode:  p.township,
		VillageCode:   p.village,
		Neighbourhood: n,
		Password:      p.value(FieldPassword),
		PhoneArea:     p.value(FieldPhoneArea), PhoneNumber: p.value(FieldPhoneNumber),
		PhoneExt:    p.value(FieldPhoneExt),
		Mobile:      p.value(FieldMobile),
		Email:       p.value(FieldEmail),
		BackupEmail: p.value(FieldBackupEmail),
	}
}

// registered shows the receipt and wipes the data: the registration is the
// upstream's (or the outbox's) now.
func (r *registration) registered(w wizard, ref string, queued bool) {
	r.reference, r.queued = ref, queued
	r.termsAccepted, r.termsShown = "", ""
	r.keepSent(w)
	w.complete()
	w.info("registered", "queued", queued)
	w.goTo(ScreenReceipt)
}

// refused shows the upstream's refusal of the registration: new rules send
// the person to read them, then back to the review with their data; field
// problems show on the step that owns the first, and "next" then returns
// to the review; the rest as for every flow.
func (r *registration) refused(w wizard, err error) []Job {
	var ue *UpstreamError
	switch kind := errorKind(err); {
	case kind == KindTermsChanged:
		w.info("upstream refused", "step", string(ScreenReview), "err_kind", kind)
		w.forgetTerms()
		r.termsAccepted, r.termsAtEnd, r.fromReview = "", false, true
		w.goTo(ScreenTerms)
		return r.termsFor(w)
	case errors.As(err, &ue) && ue.Kind == KindInvalid && typable(ue.Fields):
		w.info("upstream refused", "step", string(ScreenReview), "err_kind", kind)
		to := ScreenReview
		for _, fp := range ue.Fields {
			if st, ok := fieldScreen[fp.Field]; ok && fp.Field != FieldCard {
				to = st
				break
			}
		}
		r.fromReview = true
		if to == ScreenAddress {
			r.open("")
		}
		w.fieldErrors(ue.Fields, to)
		if slices.Contains(ue.Fields, FieldProblem{Field: FieldAddress, Code: codeUnknown}) {
			// The kiosk's list has what the upstream's has not: the
			// upstream's list, now, to choose again from.
			return w.reloadDivisions()
		}
		return nil
	}
	return w.refused(err, ScreenReview)
}
