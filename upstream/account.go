package upstream

import "time"

// Paths of the account services (issue 8). All but PathSessions and
// PathBind need a session: "Authorization: Bearer <token>" from Login,
// on a connection with the same kiosk certificate that logged in.
const (
	PathSessions      = "/v1/sessions"                // POST Login → 201 Session
	PathSessionEnd    = "/v1/sessions/end"            // POST {} → {"status":"ended"}
	PathAccount       = "/v1/account"                 // GET → Account
	PathContact       = "/v1/account/contact"         // POST Contact → ContactChanged
	PathEmailConfirm  = "/v1/account/email/confirm"   // POST EmailConfirm
	PathPassword      = "/v1/account/password"        // POST PasswordChange
	PathBindings      = "/v1/devices/bindings"        // POST BindingStart → 201 Binding
	PathBindingStatus = "/v1/devices/bindings/status" // GET ?binding_id=…&wait=25s → BindingStatus
	PathBind          = "/v1/devices/bind"            // POST Bind (the phone) → Device
	PathDevices       = "/v1/devices"                 // GET → DeviceList
	PathDeviceRemove  = "/v1/devices/remove"          // POST DeviceRemove
)

// Limits of the account services, enforced by the server.
const (
	SessionLifetime    = 15 * time.Minute
	MaxPasswordFails   = 5 // wrong passwords in a row that lock the account
	BindCodeDigits     = 8
	BindCodeLifetime   = 5 * time.Minute
	MaxBindingWait     = 30 * time.Second // bound on ?wait= of PathBindingStatus
	DeviceNameMaxRunes = 40
)

// Ways a binding code reaches the phone (BindingStart.Via).
const (
	ViaScreen = "screen" // the kiosk shows it (QR and 8 digits)
	ViaSMS    = "sms"    // sent to the registered mobile; not in the answer
)

// Status values of the account services.
const (
	StatusEnded        = "ended"
	StatusChanged      = "changed"
	StatusEmailPending = "email_pending" // other fields changed; the new e-mail waits for its code
	StatusEmailChanged = "email_changed"
	StatusRemoved      = "removed"
	StatusWaiting      = "waiting"
	StatusLinked       = "linked"
	StatusExpired      = "expired"
)

// Login opens a session with the card and the registration password.
type Login struct {
	CardNumber string `json:"card_number"`
	IDNumber   string `json:"id_number"`
	Password   string `json:"password"`
	CardAuth   string `json:"card_auth,omitempty"`
}

// Session is the answer to a Login: a bearer token for the account
// services, valid until ExpiresAt and only from the kiosk that logged in.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Account is what the kiosk shows before a change of account data.
type Account struct {
	Reference    string  `json:"reference"`
	Contact      Contact `json:"contact"`
	PendingEmail string  `json:"pending_email,omitempty"` // a new primary e-mail waiting for its code
}

// ContactChanged answers a change of contact data: StatusChanged, or
// StatusEmailPending when a confirmation went to the new primary e-mail.
type ContactChanged struct {
	Status string `json:"status"`
}

// EmailConfirm confirms a new primary e-mail with the code sent to it.
type EmailConfirm struct {
	Code string `json:"code"`
}

// PasswordChange changes the registration password (註冊密碼變更).
type PasswordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// PasswordChanged answers a password change: every session of the
// account has ended, the one that made the change too, and Token is a
// new session for the same kiosk (AccountSession switches to it).
type PasswordChanged struct {
	Status    string    `json:"status"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// BindingStart starts a mobile device binding (行動裝置認證).
type BindingStart struct {
	Via string `json:"via"` // ViaScreen or ViaSMS
}

// Binding is a started binding: its id (for BindingStatus), the one-time
// code (empty when sent by SMS) and when it expires. SentTo is the
// masked mobile number an SMS went to ("*******678").
type Binding struct {
	BindingID string    `json:"binding_id"`
	Code      string    `json:"code,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
	Via       string    `json:"via"`
	SentTo    string    `json:"sent_to,omitempty"`
}

// BindingStatus is where a binding stands: StatusWaiting, StatusLinked
// (with the Device) or StatusExpired.
type BindingStatus struct {
	Status    string    `json:"status"`
	ExpiresAt time.Time `json:"expires_at"`
	Device    *Device   `json:"device,omitempty"`
}

// Bind is the phone's request: the code it was shown and its name.
type Bind struct {
	Code       string `json:"code"`
	DeviceName string `json:"device_name"`
}

// Device is a linked mobile device (行動裝置).
type Device struct {
	DeviceID string    `json:"device_id"`
	Name     string    `json:"name"`
	LinkedAt time.Time `json:"linked_at"`
	LastUsed time.Time `json:"last_used"`
}

// DeviceList is the account's linked devices, oldest first.
type DeviceList struct {
	Devices []Device `json:"devices"`
}

// DeviceRemove unlinks one device of the account.
type DeviceRemove struct {
	DeviceID string `json:"device_id"`
}
