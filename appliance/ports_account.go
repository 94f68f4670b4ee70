package appliance

import (
	"context"
	"time"
)

// The account services' side of the upstream (issue 8), shared by the
// flows that use it.

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

// Binding is a started mobile device binding (行動裝置認證): the one-time
// code the kiosk shows and how long it is valid. ValidFor is measured by
// the adapter when the answer arrived, so the countdown does not depend
// on the upstream's clock agreeing with the kiosk's.
type Binding struct {
	ID       string
	Code     string // 8 digits; empty when sent by SMS
	ValidFor time.Duration
	Via      string
	// SentTo is the masked mobile number the SMS went to ("*******678").
	SentTo string
}

// Ways the binding code reaches the phone.
const (
	ViaScreen = "screen"
	ViaSMS    = "sms"
)

// Binding states the upstream reports.
const (
	BindingWaiting = "waiting"
	BindingLinked  = "linked"
	BindingExpired = "expired"
)

// BindingStatus is where a binding stands; Device is set when linked.
type BindingStatus struct {
	Status string
	Device Device
}

// Contact is the account's contact data (帳號資料異動), as the change screen
// shows and sends it. Its strings are copies made for one call.
type Contact struct {
	PhoneArea, PhoneNumber, PhoneExt string
	Mobile, Email, BackupEmail       string
}

// String keeps a Contact out of logs and error messages.
func (Contact) String() string { return "Contact{redacted}" }

// GoString keeps a Contact out of %#v.
func (Contact) GoString() string { return "Contact{redacted}" }
