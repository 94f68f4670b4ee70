package fleet

import (
	"errors"
	"fmt"
	"time"
)

// AckStatus is the outcome of a command.
type AckStatus string

// Ack statuses.
const (
	AckOK       AckStatus = "ok"       // done (or, for reboot/restart, about to be done)
	AckRefused  AckStatus = "refused"  // the kiosk will not do it now (e.g. a session is active)
	AckFailed   AckStatus = "failed"   // it tried and failed
	AckRejected AckStatus = "rejected" // the command itself was not acceptable (Reject says why)
)

// AckReason says why a command was refused or failed.
type AckReason string

// Ack reasons a CommandHandler can cause by returning the matching error.
const (
	ReasonSessionActive AckReason = "session_active"
	ReasonInvalidConfig AckReason = "invalid_config"
	ReasonUnsupported   AckReason = "unsupported"
	ReasonFailed        AckReason = "failed"
)

// Errors a CommandHandler returns to refuse a command with a reason.
var (
	ErrSessionActive = errors.New("a citizen's session is active")
	ErrInvalidConfig = errors.New("the new configuration is invalid; the old one is kept")
	ErrUnsupported   = errors.New("not supported on this kiosk")
)

// Check is one self-test item.
type Check struct {
	OK bool `json:"ok"`
	// Kind is a short machine-made reason when not OK (e.g. "no_reader").
	Kind Token `json:"kind,omitempty"`
}

// SelfTest is the result of a self_test command.
type SelfTest struct {
	Reader   Check `json:"reader"`
	Display  Check `json:"display"`
	Upstream Check `json:"upstream"`
	Disk     Check `json:"disk"`
}

// OK reports whether every check passed.
func (s SelfTest) OK() bool { return s.Reader.OK && s.Display.OK && s.Upstream.OK && s.Disk.OK }

// MaxScreenshot bounds a screenshot carried in an ack.
const MaxScreenshot = 768 << 10

// Ack is the payload on /ack, the kiosk's answer to one command id.
type Ack struct {
	V      int          `json:"v"`
	TS     time.Time    `json:"ts"`
	ID     Token        `json:"id"`
	Name   CommandName  `json:"name,omitempty"`
	Status AckStatus    `json:"status"`
	Reason AckReason    `json:"reason,omitempty"`
	Reject RejectReason `json:"reject,omitempty"`
	// SelfTest is the result of self_test.
	SelfTest *SelfTest `json:"self_test,omitempty"`
	// ScreenshotPNG is the screen of a kiosk with no session (screenshot).
	ScreenshotPNG []byte `json:"screenshot_png,omitempty"`
	// ConfigHash answers apply_config: the hash the kiosk reports for the
	// central configuration (config.EffectiveHash), the new one's once
	// accepted, the configuration it keeps when refused.
	ConfigHash Token `json:"config_hash,omitempty"`
	// ConfigField names the field of a refused configuration the kiosk
	// found wrong first ("panel.tamper"): a field path, never a value.
	ConfigField Token `json:"config_field,omitempty"`
}

// Validate checks an ack's version and enumerations.
func (a Ack) Validate() error {
	switch {
	case a.V != SchemaVersion:
		return fmt.Errorf("ack: version %d, want %d", a.V, SchemaVersion)
	case !a.ID.Valid():
		return errors.New("ack: id is not a token")
	case a.Reject != "" && !rejectReasons[a.Reject]:
		return fmt.Errorf("ack: unknown reject %q", a.Reject)
	case len(a.ScreenshotPNG) > MaxScreenshot:
		return errors.New("ack: screenshot too large")
	case !a.ConfigHash.Valid() || !a.ConfigField.Valid():
		return errors.New("ack: config hash or field is not a token")
	}
	switch a.Status {
	case AckOK, AckRefused, AckFailed, AckRejected:
	default:
		return fmt.Errorf("ack: unknown status %q", a.Status)
	}
	switch a.Reason {
	case "", ReasonSessionActive, ReasonInvalidConfig, ReasonUnsupported, ReasonFailed:
	default:
		return fmt.Errorf("ack: unknown reason %q", a.Reason)
	}
	if st := a.SelfTest; st != nil {
		for _, c := range []Check{st.Reader, st.Display, st.Upstream, st.Disk} {
			if !c.Kind.Valid() {
				return errors.New("ack: self-test kind is not a token")
			}
		}
	}
	return nil
}

func reasonFor(err error) (AckStatus, AckReason) {
	switch {
	case err == nil:
		return AckOK, ""
	case errors.Is(err, ErrSessionActive):
		return AckRefused, ReasonSessionActive
	case errors.Is(err, ErrInvalidConfig):
		return AckRefused, ReasonInvalidConfig
	case errors.Is(err, ErrUnsupported):
		return AckRefused, ReasonUnsupported
	}
	return AckFailed, ReasonFailed
}
