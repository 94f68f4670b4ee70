package appliance

import "github.com/nhikiosk/nhikiosk/display"

// Clock reports whether the kiosk knows the correct time (issue 21). A
// kiosk that booted without it cannot check the upstream's certificates,
// so until it does the machine refuses sessions and its out-of-service
// screen tells staff, in both languages, what it waits for. A session
// already running when the time is lost is let finish, as with
// maintenance.
type Clock struct{ Known bool }

func (Clock) isEvent() {}

// setClock applies a Clock event. Once the time is known, the start-up
// jobs run again: their first try, without it, could not check the
// upstream's certificate.
func (m *Machine) setClock(known bool) []Job {
	if known != m.clockUnknown {
		return nil // no change
	}
	m.clockUnknown = !known
	m.opt.Log.Info("clock", "known", known)
	switch {
	case !known && m.sess == nil && (m.screen == ScreenAttract || m.screen == ScreenHelp):
		m.lang = m.opt.Lang
		m.goTo(ScreenOutOfService)
	case known && !m.outOfService() && m.screen == ScreenOutOfService:
		m.goTo(ScreenAttract)
	}
	if known {
		return m.Start()
	}
	return nil
}

// clockPage is the out-of-service page while only the time is unknown:
// for staff, the text in both languages, the kiosk's first.
func (v *view) clockPage() *display.Page {
	other := LangEn
	if v.m.lang == LangEn {
		other = LangZhTW
	}
	p := v.messagePage(string(ScreenOutOfService), "oos.title", "oos.clock", "")
	note := lit(string(ScreenOutOfService)+".note", v.ui.Catalog().Text(other, "oos.clock"))
	note.Muted = true
	p.Body = append(p.Body, note)
	return p
}
