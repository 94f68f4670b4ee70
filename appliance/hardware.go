package appliance

import "github.com/nhikiosk/nhikiosk/display"

// Hardware reports which of the kiosk's own devices are missing (issue
// 18): no card reader attached, or no touch device to tap with. While one
// is missing the kiosk is out of service, and its screen says why in both
// languages at once (nobody can switch language without touch), for the
// staff who must fix it; it clears by itself when the device returns. A
// session in progress is not ended: a reader unplugged ends it anyway
// (the card is gone with it), and a touch device that comes back within
// the idle timeout lets the person go on. The zero value is everything
// present, which is what the machine assumes until told otherwise.
type Hardware struct{ NoReader, NoTouch bool }

func (Hardware) isEvent() {}

// Missing reports whether a device is missing.
func (h Hardware) Missing() bool { return h.NoReader || h.NoTouch }

// setHardware applies a Hardware event.
func (m *Machine) setHardware(h Hardware) {
	if h == m.hw {
		return
	}
	m.hw = h
	m.opt.Log.Warn("hardware", "no_reader", h.NoReader, "no_touch", h.NoTouch, "session", m.SessionID(), "step", string(m.screen))
	switch {
	case m.outOfService() && m.sess == nil && (m.screen == ScreenAttract || m.screen == ScreenHelp):
		m.lang = m.opt.Lang
		m.goTo(ScreenOutOfService)
	case !m.outOfService() && m.screen == ScreenOutOfService:
		m.goTo(ScreenAttract)
	}
}

// Hardware returns the devices the machine knows to be missing.
func (m *Machine) Hardware() Hardware { return m.hw }

// outOfServicePage says why the kiosk is out of service. Maintenance or
// the case open alone: in the kiosk's language; the time unknown alone:
// clockPage. A device missing: every reason in both languages, Chinese
// first, with what staff should check.
func (v *view) outOfServicePage() *display.Page {
	m := v.m
	if !m.hw.Missing() {
		if m.clockUnknown {
			return v.clockPage()
		}
		return v.messagePage("out_of_service", "oos.title", "oos.body", "")
	}
	var keys []string
	if m.clockUnknown {
		keys = append(keys, "oos.clock", "")
	}
	if m.hw.NoTouch {
		keys = append(keys, "oos.no_touch", "oos.no_touch.staff")
	}
	if m.hw.NoReader {
		keys = append(keys, "oos.no_reader", "oos.no_reader.staff")
	}
	if m.maintenance || m.tampered {
		keys = append(keys, "oos.body")
	}
	cat := v.ui.Catalog()
	var body []display.Widget
	for _, lang := range []string{LangZhTW, LangEn} {
		for i, k := range keys {
			if k == "" {
				continue
			}
			l := lit("oos."+lang+"."+k, cat.Text(lang, k))
			l.Muted = i%2 == 1 && k != "oos.body" // the staff's lines
			body = append(body, l)
		}
	}
	title := cat.Text(LangZhTW, "oos.title") + " · " + cat.Text(LangEn, "oos.title")
	return &display.Page{
		ID:     pageOutOfServiceHardware,
		Header: display.NewHeader("header", display.Lit(title), 0, 0),
		Body:   body,
	}
}

// pageOutOfServiceHardware is the page of a kiosk missing a device: it has
// no language switch, being in both languages.
const pageOutOfServiceHardware = "out_of_service_hardware"
