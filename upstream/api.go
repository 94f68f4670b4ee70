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
// address as far as the website asks for it.
type Household struct {
	Number        string `json:"number"` // 戶號
	County        string `json:"county"`
	Township      string `json:"township"`
	Village       string `json:"village"`
	Neighbourhood int    `json:"neighbourhood"` // 鄰
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

// Divisions is the administrative division tree for the address pickers.
type Divisions struct {
	Counties []County `json:"counties"`
}

// County is a county or special municipality (縣市).
type County struct {
	Name      string     `json:"name"`
	Townships []Township `json:"townships"`
}

// Township is a township or district (鄉鎮市區).
type Township struct {
	Name     string   `json:"name"`
	Villages []string `json:"villages"` // 村里
}

// Has reports whether county/township/village is in d.
func (d Divisions) Has(county, township, village string) bool {
	for _, c := range d.Counties {
		if c.Name != county {
			continue
		}
		for _, t := range c.Townships {
			if t.Name != township {
				continue
			}
			for _, v := range t.Villages {
				if v == village {
					return true
				}
			}
		}
	}
	return false
}

// Verification codes and their limits, enforced by the server.
const (
	CodeDigits   = 6
	CodeLifetime = 24 * time.Hour
	MaxTries     = 5
	LockDuration = 15 * time.Minute
)
