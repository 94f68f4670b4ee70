package appliance

import (
	"errors"
	"slices"
	"strconv"
	"strings"
)

// tapRegister handles the registration's screens.
func (m *Machine) tapRegister(id string) []Job {
	s := m.sess
	switch {
	case id == IDBack:
		m.registerBack()
		return nil
	case m.screen == ScreenAddress && m.tapAddress(id):
		return nil
	case m.screen == ScreenReview:
		return m.tapReview(id)
	case id == IDAgree && m.screen == ScreenTerms:
		if !s.termsAtEnd || s.termsLoading {
			return nil // the button is disabled until the end was reached
		}
		s.termsAccepted = s.termsShown
		m.opt.Log.Info("terms accepted", "session", s.id, "terms_version", s.termsAccepted)
		m.registerNext()
	case id == IDNext && m.screen != ScreenTerms:
		if m.screen == ScreenAddress && !m.addressComplete() {
			s.errs[FieldAddress] = "required"
			m.checkScreen()
			return nil
		}
		if m.checkScreen() {
			m.registerNext()
		}
	case id == IDPrevPage && s.page > 0:
		s.page--
	case id == IDNextPage:
		s.page++
	}
	return nil
}

// registerNext moves to the next registration step, or back to the review
// after an edit.
func (m *Machine) registerNext() {
	if m.sess.fromReview {
		m.goTo(ScreenReview)
		return
	}
	i := slices.Index(registerSteps, m.screen)
	if i >= 0 && i+1 < len(registerSteps) {
		m.goTo(registerSteps[i+1])
	}
}

func (m *Machine) registerBack() {
	i := slices.Index(registerSteps, m.screen)
	switch {
	case m.sess.fromReview && m.screen != ScreenReview:
		m.goTo(ScreenReview)
	case i <= 0:
		m.toMenu()
	default:
		m.goTo(registerSteps[i-1])
	}
}

// tapAddress handles the division lists; it reports whether id was one of
// them.
func (m *Machine) tapAddress(id string) bool {
	p := m.sess.p
	kind, code, _ := strings.Cut(id, ".")
	switch {
	case kind == "county" && id != IDChangeCounty && m.countyByCode(code) != nil:
		p.county, p.township, p.village = code, "", ""
	case kind == "township" && id != IDChangeTownship && m.townshipByCode(code) != nil:
		p.township, p.village = code, ""
	case kind == "village" && id != IDChangeVillage && m.villageByCode(code) != nil:
		p.village = code
	case id == IDChangeCounty:
		p.county, p.township, p.village = "", "", ""
	case id == IDChangeTownship:
		p.township, p.village = "", ""
	case id == IDChangeVillage:
		p.village = ""
	default:
		return false
	}
	if m.addressComplete() {
		delete(m.sess.errs, FieldAddress)
	}
	m.sess.page = 0
	return true
}

// addressComplete reports whether a division was picked at every level
// the division list has.
func (m *Machine) addressComplete() bool {
	p := m.sess.p
	c := m.countyByCode(p.county)
	if c == nil {
		return false
	}
	if len(c.Children) == 0 {
		return true
	}
	t := m.townshipByCode(p.township)
	if t == nil {
		return false
	}
	return len(t.Children) == 0 || m.villageByCode(p.village) != nil
}

func findDivision(ds []Division, code string) *Division {
	for i := range ds {
		if ds[i].Code == code {
			return &ds[i]
		}
	}
	return nil
}

func (m *Machine) countyByCode(code string) *Division { return findDivision(m.divisions, code) }

func (m *Machine) townshipByCode(code string) *Division {
	if c := m.countyByCode(m.sess.p.county); c != nil {
		return findDivision(c.Children, code)
	}
	return nil
}

func (m *Machine) villageByCode(code string) *Division {
	if t := m.townshipByCode(m.sess.p.township); t != nil {
		return findDivision(t.Children, code)
	}
	return nil
}

func (m *Machine) tapReview(id string) []Job {
	edit := map[string]ScreenID{
		IDEditHousehold: ScreenHousehold, IDEditAddress: ScreenAddress,
		IDEditPassword: ScreenPassword, IDEditContact: ScreenContact,
	}
	if to, ok := edit[id]; ok {
		m.sess.fromReview = true
		m.goTo(to)
		return nil
	}
	if id == IDSubmit {
		return m.submit()
	}
	return nil
}

// submit sends the registration, once every step checks out.
func (m *Machine) submit() []Job {
	s := m.sess
	for _, step := range registerSteps {
		for _, f := range screenFields[step] {
			if c := checkField(s.p, f); c != "" {
				s.errs[f] = c
				m.goTo(step)
				return nil
			}
		}
	}
	s.busyKey = "busy.register"
	m.goTo(ScreenBusy)
	return []Job{m.registerJob(m.registration())}
}

// registration copies the session's data into the request, for one call.
func (m *Machine) registration() Registration {
	p := m.sess.p
	n, _ := strconv.Atoi(p.value(FieldNeighbourhood))
	return Registration{
		TermsVersion:  m.sess.termsAccepted,
		Lang:          m.lang,
		Identity:      m.identity(),
		Name:          string(p.card.Name),
		BirthDate:     string(p.card.BirthDate),
		Household:     p.value(FieldHousehold),
		County:        divisionName(m.countyByCode(p.county)),
		Township:      divisionName(m.townshipByCode(p.township)),
		Village:       divisionName(m.villageByCode(p.village)),
		Neighbourhood: n,
		Password:      p.value(FieldPassword),
		PhoneArea:     p.value(FieldPhoneArea), PhoneNumber: p.value(FieldPhoneNumber),
		PhoneExt:    p.value(FieldPhoneExt),
		Mobile:      p.value(FieldMobile),
		Email:       p.value(FieldEmail),
		BackupEmail: p.value(FieldBackupEmail),
	}
}

// typable reports whether some of the fields are ones the person can fix
// (not the card's data or what the kiosk adds).
func typable(fs []FieldProblem) bool {
	for _, f := range fs {
		if f.Field != FieldCard {
			return true
		}
	}
	return false
}

func divisionName(d *Division) string {
	if d == nil {
		return ""
	}
	return d.Zh
}

func (m *Machine) identity() Identity {
	return Identity{IDNumber: string(m.sess.p.card.IDNumber), CardNumber: string(m.sess.p.card.CardNumber)}
}

// registered shows the receipt and wipes the data: the registration is the
// upstream's (or the outbox's) now.
func (m *Machine) registered(ref string, queued bool) {
	s := m.sess
	s.reference, s.queued = ref, queued
	s.complete()
	m.opt.Log.Info("registered", "session", s.id, "queued", queued)
	m.goTo(ScreenReceipt)
}

// upstreamRefused shows the upstream's refusal: field errors next to their
// fields on the step that owns them, anything else on the error screen.
func (m *Machine) upstreamRefused(err error, fallback ScreenID) []Job {
	s := m.sess
	kind := errorKind(err)
	m.opt.Log.Info("upstream refused", "session", s.id, "step", string(fallback), "err_kind", kind)
	if kind == KindTermsChanged && s.flow == flowRegister {
		// New rules came out while the person was typing: they read and
		// accept those, then come back to the review with their data.
		clear(m.terms)
		s.termsAccepted, s.termsAtEnd, s.fromReview = "", false, true
		m.goTo(ScreenTerms)
		return m.termsFor()
	}
	var ue *UpstreamError
	if errors.As(err, &ue) && ue.Kind == KindInvalid && typable(ue.Fields) {
		to := ScreenID("")
		for _, fp := range ue.Fields {
			if fp.Field == FieldCard {
				continue
			}
			s.errs[fp.Field] = fp.Code
			if st, ok := fieldScreen[fp.Field]; ok && to == "" && s.flow == flowRegister {
				to = st
			}
		}
		if to == "" {
			to = fallback
		}
		// Once fixed, "next" goes back to the review to submit again.
		s.fromReview = s.flow == flowRegister
		m.goTo(to)
		s.showErr++
		if _, ok := s.errs[s.focus]; !ok {
			for _, f := range screenFields[to] {
				if _, bad := s.errs[f]; bad {
					s.focus = f
					break
				}
			}
		}
		return nil
	}
	if kind == KindBadCode || kind == KindWrongPassword {
		f := FieldCode
		if kind == KindWrongPassword {
			f = FieldPassword
		}
		m.goTo(fallback)
		s.errs[f] = kind
		s.focus = f
		s.showErr++
		return nil
	}
	s.errKind = kind
	m.goTo(ScreenError)
	return nil
}
