package appliance

import (
	"testing"
	"time"
)

// accountSteps reaches each account screen with some of the person's data
// typed.
var accountSteps = []struct {
	name  string
	reach func(d *driver)
}{
	{"login", func(d *driver) { d.do(CardInserted{}); d.tap(IDLogin); d.typeIn(FieldPassword, "Abc") }},
	{"account", func(d *driver) { d.login(testPassword) }},
	{"bind", func(d *driver) { d.login(testPassword); d.tap(IDBind) }},
	{"devices", func(d *driver) { d.login(testPassword); d.tap(IDDevices) }},
	{"remove_device", func(d *driver) { d.login(testPassword); d.tap(IDDevices, IDRemoveDevice+"0") }},
	{"change_password", func(d *driver) {
		d.login(testPassword)
		d.tap(IDChangePassword)
		d.typeIn(FieldCurrentPassword, testPassword)
	}},
	{"account_contact", func(d *driver) { d.login(testPassword); d.tap(IDContact) }},
	{"confirm_email", func(d *driver) {
		d.login(testPassword)
		d.tap(IDContact)
		d.typeIn(FieldEmail, "new.one@example.com")
		d.tap(IDSubmit)
	}},
}

// TestAccountAborts pulls the card, and separately walks away, at every
// account screen: the session ends, its data is zeroed, and a logged-in
// session is logged out at the upstream once.
func TestAccountAborts(t *testing.T) {
	for _, how := range []string{"card_pulled", "idle"} {
		for _, st := range accountSteps {
			t.Run(how+"/"+st.name, func(t *testing.T) {
				d := newDriver(t)
				d.up.devices = fakeDevices()
				d.up.contact = fakeContact()
				st.reach(d)
				if d.m.Screen() == ScreenError || d.m.Screen() == ScreenBusy {
					t.Fatalf("did not reach %s: %s", st.name, d.m.Screen())
				}
				p := d.m.sess.p
				var owned [][]byte
				for _, b := range p.fields {
					owned = append(owned, b)
				}
				loggedIn := d.m.sess.account != nil
				if how == "card_pulled" {
					d.do(CardRemoved{})
					d.wantScreen(ScreenRemoved)
				} else {
					d.advance(61 * time.Second)
					d.advance(21 * time.Second)
					if st.name == "bind" { // no idle warning while the code is up
						d.wantScreen(ScreenBind)
						d.advance(5 * time.Minute)
						d.advance(61 * time.Second)
						d.advance(21 * time.Second)
					}
					d.wantScreen(ScreenAttract)
				}
				if d.m.sess != nil {
					t.Fatalf("the session is still there")
				}
				for _, b := range owned {
					for _, c := range b[:cap(b)] {
						if c != 0 {
							t.Fatalf("a field's bytes were not zeroed")
						}
					}
				}
				want := 0
				if loggedIn {
					want = 1
				}
				if n := d.count("Logout"); n != want {
					t.Errorf("Logout called %d times, want %d", n, want)
				}
			})
		}
	}
}
