package appliance

import (
	"strconv"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
)

// taipei is the zone the device list's times are shown in.
var taipei = time.FixedZone("CST", 8*3600)

// accountPage is a page of the account services.
func (v *view) accountPage() *display.Page {
	s := v.m.sess
	back := v.button(IDBack, "btn.back", display.Secondary)
	p := &display.Page{ID: string(v.m.screen)}
	switch v.m.screen {
	case ScreenLogin:
		p.Header = display.NewHeader("header", display.M("login.title"), 0, 0)
		p.Body = []display.Widget{label("login.intro", "login.intro"), v.field(FieldPassword, "field.password")}
		p.Footer = []display.Widget{back, v.button(IDSubmit, "login.submit", display.Primary)}
	case ScreenAccount:
		p.Header = display.NewHeader("header", display.M("account.title"), 0, 0)
		p.Body = append(v.note(), v.button(IDBind, "account.bind", display.Secondary),
			v.button(IDBindSMS, "account.bind_sms", display.Secondary),
			v.button(IDDevices, "account.devices", display.Secondary),
			v.button(IDContact, "account.contact", display.Secondary),
			v.button(IDChangePassword, "account.password", display.Secondary))
		p.Footer = []display.Widget{v.button(IDLogout, "account.logout", display.Primary)}
	case ScreenDevices:
		p.Header = display.NewHeader("header", display.M("devices.title"), 0, 0)
		p.Body = append(v.note(), v.deviceRows()...)
		p.Footer = []display.Widget{back}
	case ScreenAccountContact:
		p.Header = display.NewHeader("header", display.M("account.contact"), 0, 0)
		p.Body = []display.Widget{label("account_contact.intro", "account_contact.intro"),
			display.NewRow("phone", v.field(FieldPhoneArea, "field.phone_area"), v.field(FieldPhoneNumber, "field.phone_number"), v.field(FieldPhoneExt, "field.phone_ext")),
			v.field(FieldMobile, "field.mobile"), v.field(FieldEmail, "field.email"), v.field(FieldBackupEmail, "field.backup_email")}
		p.Footer = []display.Widget{back, v.button(IDSubmit, "btn.submit", display.Primary)}
	case ScreenConfirmEmail:
		p.Header = display.NewHeader("header", display.M("confirm_email.title"), 0, 0)
		p.Body = []display.Widget{label("confirm_email.intro", "confirm_email.intro"), v.field(FieldCode, "field.code")}
		p.Footer = []display.Widget{back, v.button(IDSubmit, "btn.submit", display.Primary)}
	case ScreenChangePassword:
		p.Header = display.NewHeader("header", display.M("change_password.title"), 0, 0)
		p.Body = []display.Widget{label("change_password.intro", "change_password.intro"),
			v.field(FieldCurrentPassword, "field.current_password"), v.field(FieldNewPassword, "field.new_password"),
			newStrengthMeter(v.m, FieldNewPassword), v.field(FieldNewPassword2, "field.password2")}
		p.Footer = []display.Widget{back, v.button(IDSubmit, "btn.submit", display.Primary)}
	case ScreenRemoveDevice:
		d := s.acct.devices[s.acct.remove]
		p.Header = display.NewHeader("header", display.M("remove_device.title"), 0, 0)
		name := lit("remove_device.name", d.Name)
		name.Size = display.SizeTitle
		p.Body = []display.Widget{label("remove_device.body", "remove_device.body"), name}
		p.Footer = []display.Widget{back, v.button(IDConfirm, "remove_device.confirm", display.Primary)}
	}
	return p
}

// note is the account's note (what the last action did), if any.
func (v *view) note() []display.Widget {
	if n := v.m.sess.acct.note; n != "" {
		return []display.Widget{label("account.note", n)}
	}
	return nil
}

// deviceRows lists the linked devices: name, when linked, last used, and
// a remove button each.
func (v *view) deviceRows() []display.Widget {
	ds := v.m.sess.acct.devices
	if len(ds) == 0 {
		return []display.Widget{label("devices.none", "devices.none")}
	}
	var out []display.Widget
	for i, d := range ds {
		n := strconv.Itoa(i)
		name := lit("device.name."+n, d.Name)
		name.Size = display.SizeTitle
		at := display.NewLabel("device.when."+n, display.M("devices.when", "linked", when(d.LinkedAt), "used", when(d.LastUsed)))
		at.Muted = true
		out = append(out, name, at, v.button(IDRemoveDevice+n, "devices.remove", display.Secondary))
	}
	return out
}

func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(taipei).Format("2006-01-02 15:04")
}
