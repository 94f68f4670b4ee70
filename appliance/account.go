package appliance

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// AccountUpstream is the upstream's side of the account services (issue
// 8). An Upstream that also implements it gets the "log in" entry on the
// menu; one that does not (an older adapter, a test fake) shows the menu
// without it.
type AccountUpstream interface {
	// Login opens an account session with the card and the registration
	// password. Refusals: KindWrongPassword (counted by the upstream),
	// KindAccountLocked, KindNotActive, KindNotRegistered.
	Login(ctx context.Context, id Identity, password string) (AccountSession, error)
}

// AccountSession is a logged-in person's session at the upstream. The
// machine keeps it for the card's session only and logs it out when the
// session ends (card removed, idle timeout, finished). A call refused
// with KindUnauthorized means the upstream ended the session.
type AccountSession interface {
	// Logout ends the session at the upstream.
	Logout(ctx context.Context) error
	// Devices lists the account's linked mobile devices.
	Devices(ctx context.Context) ([]Device, error)
	// RemoveDevice unlinks one of them; a device that is not the
	// account's is KindNotRegistered.
	RemoveDevice(ctx context.Context, deviceID string) error
	// ChangePassword sets a new registration password; a wrong current
	// one is KindWrongPassword (counted like at login).
	ChangePassword(ctx context.Context, current, next string) error
	// Contact returns the account's contact data.
	Contact(ctx context.Context) (Contact, error)
	// ChangeContact changes it; a new primary e-mail waits for the code
	// sent to it (emailPending) and ConfirmEmail.
	ChangeContact(ctx context.Context, c Contact) (emailPending bool, err error)
	// ConfirmEmail makes the pending e-mail the account's.
	ConfirmEmail(ctx context.Context, code string) error
	// StartBinding gets a one-time code for a phone to present, shown
	// on screen (ViaScreen) or sent by SMS to the registered mobile
	// (ViaSMS).
	StartBinding(ctx context.Context, via string) (Binding, error)
	// BindingStatus says whether the phone presented the code, waiting
	// at the upstream up to wait while it has not.
	BindingStatus(ctx context.Context, bindingID string, wait time.Duration) (BindingStatus, error)
}

// Device is a linked mobile device (行動裝置) as the management screen
// shows it. Its name was chosen on the phone: it is kept out of logs.
type Device struct {
	ID       string
	Name     string
	LinkedAt time.Time
	LastUsed time.Time
}

// Kinds of upstream errors of the account services.
const (
	KindAccountLocked = "account_locked" // 5 wrong passwords: forgot password unlocks
	KindUnauthorized  = "unauthorized"   // the upstream ended the session: log in again
	KindCodeUsed      = "code_used"      // a binding code presented twice
	KindTooManyTries  = "too_many_tries" // too many wrong codes
)

// Screens of the account services.
const (
	ScreenLogin        ScreenID = "login"
	ScreenAccount      ScreenID = "account"
	ScreenDevices      ScreenID = "devices"
	ScreenRemoveDevice ScreenID = "remove_device"
)

// Widget ids of the account services. A device's remove button is
// IDRemoveDevice + its position in the list ("device.remove.0").
const (
	IDLogin        = "menu.login"
	IDDevices      = "account.devices"
	IDLogout       = "account.logout"
	IDRemoveDevice = "device.remove."
	IDConfirm      = "confirm"
)

// flowAccount is a logged-in person's visit to the account services.
const flowAccount flow = "account"

// account is what the machine holds for a logged-in person: the upstream
// session, and the device list on screen with the one chosen for removal.
type account struct {
	s       AccountSession
	devices []Device
	remove  int
	// bind is the binding on screen; linked the name of the device that
	// was just linked (shown, never logged).
	bind   *binding
	via    string // of the binding on screen, for a new code
	linked string
	// note is a message key shown above the account menu or device list
	// (e.g. "devices.removed"), cleared on the next screen.
	note string
}

func init() {
	screenFields[ScreenLogin] = []FieldID{FieldPassword}
}

// accountUpstream returns the upstream's account side, if it has one.
func (m *Machine) accountUpstream() (AccountUpstream, bool) {
	au, ok := m.opt.Upstream.(AccountUpstream)
	return au, ok
}

// startLogin shows the log-in screen, if the upstream offers accounts.
func (m *Machine) startLogin() {
	if _, ok := m.accountUpstream(); !ok {
		return
	}
	m.sess.flow = flowAccount
	m.goTo(ScreenLogin)
}

// tapAccount handles the account services' screens.
func (m *Machine) tapAccount(id string) []Job {
	s := m.sess
	if jobs, ok := m.tapBinding(id); ok {
		return jobs
	}
	if jobs, ok := m.tapChangePassword(id); ok {
		return jobs
	}
	if jobs, ok := m.tapContact(id); ok {
		return jobs
	}
	switch m.screen {
	case ScreenLogin:
		switch id {
		case IDBack:
			m.toMenu()
		case IDSubmit:
			return m.login()
		}
	case ScreenAccount:
		switch id {
		case IDDevices:
			return m.loadDevices("")
		case IDBind:
			return m.startBinding(ViaScreen)
		case IDBindSMS:
			return m.startBinding(ViaSMS)
		case IDContact:
			return m.loadContact()
		case IDChangePassword:
			clear(s.errs)
			s.acct.note = ""
			m.goTo(ScreenChangePassword)
		case IDLogout, IDFinish:
			m.finish()
		}
	case ScreenDevices:
		if n, ok := strings.CutPrefix(id, IDRemoveDevice); ok {
			i, err := strconv.Atoi(n)
			if err == nil && i >= 0 && i < len(s.acct.devices) {
				s.acct.remove = i
				m.goTo(ScreenRemoveDevice)
			}
			return nil
		}
		if id == IDBack {
			m.toAccount("")
		}
	case ScreenRemoveDevice:
		switch id {
		case IDBack:
			m.goTo(ScreenDevices)
		case IDConfirm:
			return m.removeDevice()
		}
	}
	return nil
}

// toAccount shows the account menu with an optional note.
func (m *Machine) toAccount(note string) {
	s := m.sess
	clear(s.errs)
	s.errKind = ""
	s.acct.note = note
	m.goTo(ScreenAccount)
}

// login sends the card and the password; the password is zeroed from the
// field once sent.
func (m *Machine) login() []Job {
	s := m.sess
	if s.p.value(FieldPassword) == "" {
		s.errs[FieldPassword] = "required"
		s.showErr++
		return nil
	}
	au, _ := m.accountUpstream()
	id, pw := m.identity(), s.p.value(FieldPassword)
	zero(s.p.fields[FieldPassword])
	delete(s.p.fields, FieldPassword)
	s.busyKey = "busy.login"
	m.goTo(ScreenBusy)
	sess := s.id
	return []Job{func(ctx context.Context) Event {
		as, err := au.Login(ctx, id, pw)
		return result{session: sess, discard: func() { logoutLater(as) }, apply: func(m *Machine) []Job {
			if err != nil {
				return m.accountRefused(err, ScreenLogin)
			}
			m.sess.acct = &account{s: as}
			m.opt.Log.Info("logged in", "session", sess)
			m.toAccount("")
			return nil
		}}
	}}
}

// accountRefused shows an account service's refusal: a locked account
// leads to the forgot-password flow, an ended session back to the menu,
// anything else as for the other services.
func (m *Machine) accountRefused(err error, from ScreenID) []Job {
	s := m.sess
	switch kind := errorKind(err); kind {
	case KindAccountLocked, KindUnauthorized:
		m.opt.Log.Info("upstream refused", "session", s.id, "step", string(from), "err_kind", kind)
		if s.acct != nil {
			s.acct = nil
		}
		s.flow, s.errKind = flowNone, kind
		m.goTo(ScreenError)
		return nil
	}
	return m.upstreamRefused(err, from)
}

// loadDevices fetches the device list and shows it with note.
func (m *Machine) loadDevices(note string) []Job {
	s := m.sess
	s.busyKey = "busy.devices"
	m.goTo(ScreenBusy)
	sess, as := s.id, s.acct.s
	return []Job{func(ctx context.Context) Event {
		ds, err := as.Devices(ctx)
		return result{session: sess, apply: func(m *Machine) []Job {
			if err != nil {
				return m.accountRefused(err, ScreenAccount)
			}
			m.sess.acct.devices, m.sess.acct.note = ds, note
			m.opt.Log.Info("devices listed", "session", sess, "count", len(ds))
			m.goTo(ScreenDevices)
			return nil
		}}
	}}
}

// removeDevice unlinks the chosen device and shows the list again.
func (m *Machine) removeDevice() []Job {
	s := m.sess
	devID := s.acct.devices[s.acct.remove].ID
	s.busyKey = "busy.remove_device"
	m.goTo(ScreenBusy)
	sess, as := s.id, s.acct.s
	return []Job{func(ctx context.Context) Event {
		err := as.RemoveDevice(ctx, devID)
		return result{session: sess, apply: func(m *Machine) []Job {
			if err != nil {
				if errorKind(err) == KindNotRegistered {
					m.opt.Log.Info("upstream refused", "session", sess, "step", string(ScreenRemoveDevice), "err_kind", "device_not_found")
					return m.loadDevices("devices.not_found")
				}
				return m.accountRefused(err, ScreenDevices)
			}
			m.opt.Log.Info("device removed", "session", sess)
			return m.loadDevices("devices.removed")
		}}
	}}
}

// logoutTimeout bounds the logout sent when a session ends.
const logoutTimeout = 5 * time.Second

// logoutJob ends the account session at the upstream; it runs after the
// kiosk's session is gone, so it does not use the session's context.
func (m *Machine) logoutJob(as AccountSession, why string) Job {
	return func(ctx context.Context) Event {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
		defer cancel()
		err := as.Logout(ctx)
		return result{apply: func(m *Machine) []Job {
			m.opt.Log.Info("logged out", "reason", why, "err_kind", kindOrOK(err))
			return nil
		}}
	}
}

// logoutLater logs out a session whose answer came after the kiosk's
// session ended (the card was pulled during the login).
func logoutLater(as AccountSession) {
	if as == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), logoutTimeout)
		defer cancel()
		as.Logout(ctx)
	}()
}

func kindOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return errorKind(err)
}

// endAccount queues the logout of a session that is ending; Handle hands
// the job out with the event's others.
func (m *Machine) endAccount(why string) {
	if m.sess == nil || m.sess.acct == nil {
		return
	}
	m.later = append(m.later, m.logoutJob(m.sess.acct.s, why))
	m.sess.acct.devices, m.sess.acct.bind, m.sess.acct.linked = nil, nil, ""
	m.sess.acct = nil
}
