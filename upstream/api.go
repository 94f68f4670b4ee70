// Package upstream owns the kiosk's side of the registration API (v1, JSON
// over HTTPS with mutual TLS): the request and response types both ends
// share, the field validation built on package rules, the Client the
// wizard calls (with AccountSession for the account services after a
// login), and the Outbox that keeps a registration, encrypted to the
// upstream's age key, until the upstream has answered it.
//
// The server side lives in upstream/server (used by cmd/nhisim). This
// package never logs or stores personal data in clear: the only thing it
// writes to disk is the age-encrypted outbox, and its errors carry field
// names and codes, never values. docs/upstream.md describes the API;
// api/openapi.yaml is its contract and a test keeps the two in step.
package upstream

import "time"

// API paths, relative to the upstream's base URL.
const (
	PathRegistrations = "/v1/registrations"
	PathResend        = "/v1/registrations/resend"
	PathCancel        = "/v1/registrations/cancel"
	PathVerifications = "/v1/verifications"
	PathResets        = "/v1/password-resets"
	PathResetConfirm  = "/v1/password-resets/confirm"
	PathDivisions     = "/v1/divisions"
	PathTerms         = "/v1/terms"
)

// Endpoint is one operation of the API.
type Endpoint struct{ Method, Path string }

// Endpoints lists every operation; api/openapi.yaml must list the same.
var Endpoints = []Endpoint{
	{"POST", PathRegistrations}, {"POST", PathResend}, {"POST", PathCancel},
	{"POST", PathVerifications}, {"POST", PathResets}, {"POST", PathResetConfirm},
	{"GET", PathDivisions}, {"GET", PathTerms},
	{"POST", PathSessions}, {"POST", PathSessionEnd}, {"GET", PathAccount}, {"POST", PathContact},
	{"POST", PathEmailConfirm}, {"POST", PathPassword}, {"POST", PathBindings}, {"GET", PathBindingStatus},
	{"POST", PathBind}, {"GET", PathDevices}, {"POST", PathDeviceRemove},
	{"GET", PathTime},
	{"POST", PathCardAuth}, {"POST", PathCardAuthRespond},
}

// Content types. A queued registration is sent exactly as the outbox holds
// it: the JSON of a Registration encrypted to the upstream's age X25519
// recipient (binary age format).
const (
	ContentJSON     = "application/json"
	ContentAgeJSON  = "application/vnd.nhikiosk.registration+age"
	HeaderIdemKey   = "Idempotency-Key"
	IdemKeyMaxBytes = 64
)

// Registration statuses.
const (
	StatusPendingEmail = "pending_email"
	StatusActive       = "active"
)

// Registration is a first-time application (首次申請): what the card says,
// what the person typed, and which terms they accepted.
type Registration struct {
	CardNumber   string    `json:"card_number"`
	IDNumber     string    `json:"id_number"`
	Name         string    `json:"name"`
	BirthDate    string    `json:"birth_date"` // YYYY-MM-DD (Gregorian)
	Household    Household `json:"household"`
	Password     string    `json:"password"`
	Contact      Contact   `json:"contact"`
	TermsVersion string    `json:"terms_version"`
	KioskID      string    `json:"kiosk_id"`
	// CardAuth is the proof of a card authentication for registration
	// (cardauth.go); it goes into the outbox with the rest.
	CardAuth string `json:"card_auth,omitempty"`
}

// Household is the household number and the household registration
// address as far as the website asks for it: the county, township and
// village by their official codes (GET /v1/divisions), and the
// neighbourhood.
type Household struct {
	Number        string `json:"number"`        // 戶號
	CountyCode    string `json:"county_code"`   // 5 digits
	TownshipCode  string `json:"township_code"` // 8 digits
	VillageCode   string `json:"village_code"`  // 11 digits
	Neighbourhood int    `json:"neighbourhood"` // 鄰
	// County, Township and Village are the Chinese names that kiosks sent
	// before the codes. The upstream still takes them, without codes, from
	// registrations queued then (ResolveNames); new kiosks send codes only.
	County   string `json:"county,omitempty"`
	Township string `json:"township,omitempty"`
	Village  string `json:"village,omitempty"`
}

// Contact is how the NHI reaches the person.
type Contact struct {
	Phone       Phone  `json:"phone"`
	Mobile      string `json:"mobile"`
	Email       string `json:"email"`
	BackupEmail string `json:"backup_email,omitempty"`
}

// Phone is a landline contact phone: area code, number, extension.
type Phone struct {
	AreaCode  string `json:"area_code"`
	Number    string `json:"number"`
	Extension string `json:"extension,omitempty"`
}

// Registered is the answer to a registration (201, or the replay of it).
type Registered struct {
	RegistrationID string `json:"registration_id"`
	Reference      string `json:"reference"`
	Status         string `json:"status"`
}

// Identify names one person's registration: card number and ID number.
// It is the body of resend and password-reset requests.
type Identify struct {
	CardNumber string `json:"card_number"`
	IDNumber   string `json:"id_number"`
}

// Verification confirms the code from the e-mail.
type Verification struct {
	CardNumber string `json:"card_number"`
	IDNumber   string `json:"id_number"`
	Code       string `json:"code"`
	CardAuth   string `json:"card_auth,omitempty"`
}

// Cancellation deletes a pending application (刪除註冊申請).
type Cancellation struct {
	CardNumber string `json:"card_number"`
	IDNumber   string `json:"id_number"`
	Password   string `json:"password"`
	CardAuth   string `json:"card_auth,omitempty"`
}

// ResetConfirm sets a new password with the code from the reset e-mail.
type ResetConfirm struct {
	CardNumber  string `json:"card_number"`
	IDNumber    string `json:"id_number"`
	Code        string `json:"code"`
	NewPassword string `json:"new_password"`
	CardAuth    string `json:"card_auth,omitempty"`
}

// StatusReply is the body of answers that only report a state:
// {"status":"active"}, {"status":"code_sent"}, {"status":"cancelled"}…
type StatusReply struct {
	Status string `json:"status"`
}

// Status values of StatusReply besides the registration statuses.
const (
	StatusCodeSent        = "code_sent"
	StatusCancelled       = "cancelled"
	StatusPasswordChanged = "password_changed"
)

// Terms is the current text of the rules of the service.
type Terms struct {
	Version string            `json:"version"`
	Text    map[string]string `json:"text"` // "zh-TW", "en"
}

// Verification codes and their limits, enforced by the server
// (docs/upstream.md, "Limits").
const (
	CodeDigits   = 6
	CodeLifetime = 24 * time.Hour
	// MaxTries wrong codes of one kind (verification, reset, e-mail
	// change) for one account lock that kind for LockDuration; the count
	// goes on across new codes and only a right code resets it. Each
	// further lock lasts twice as long, up to MaxLockDuration.
	MaxTries        = 5
	LockDuration    = 15 * time.Minute
	MaxLockDuration = 24 * time.Hour
	// MaxCancelTries wrong passwords at cancellation lock it the same way.
	MaxCancelTries = 5
	// MaxSendsPerHour e-mails (or SMS) of one kind per account per hour:
	// resends, reset codes, e-mail change codes, binding codes by SMS.
	MaxSendsPerHour = 5
	// ClientGuessMax failed guesses (wrong codes or passwords, unknown
	// accounts) from one client certificate in ClientGuessWindow get
	// 429 too_many_tries until the window ends, whichever account they
	// were for.
	ClientGuessMax    = 30
	ClientGuessWindow = 10 * time.Minute
	// IdemRetention is how long the upstream keeps the answer stored for
	// an Idempotency-Key; a registration keeps its key for as long as it
	// exists, so its replay is recognised even later.
	IdemRetention = 7 * 24 * time.Hour
)

// Roles of client certificates: the Subject's organizational unit (OU)
// names what the holder may do. A kiosk's certificate carries RoleKiosk
// and may use every endpoint but the phone's; a phone's carries RolePhone
// and may only bind (PathBind). A certificate with neither is refused
// (403 forbidden). Endpoints added later say which roles they serve.
const (
	RoleKiosk = "kiosk"
	RolePhone = "phone"
)
