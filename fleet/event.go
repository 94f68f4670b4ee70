package fleet

import (
	"fmt"
	"time"
)

// EventKind is what happened, on /event.
type EventKind string

// Event kinds.
const (
	EvReaderUnplugged EventKind = "reader_unplugged"
	EvReaderReplugged EventKind = "reader_replugged"
	EvCardError       EventKind = "card_error"
	EvTamper          EventKind = "tamper"
	EvOutboxStuck     EventKind = "outbox_stuck"
	// EvOutboxDeadLetter: the upstream refused a queued registration,
	// which is kept as a dead letter; Count is how many there are now.
	// Nothing of the registration goes with it.
	EvOutboxDeadLetter EventKind = "outbox_dead_letter"
	EvHelpRequested    EventKind = "help_requested"
	EvCommandRejected  EventKind = "command_rejected"
	EvMaintenanceOn    EventKind = "maintenance_on"
	EvMaintenanceOff   EventKind = "maintenance_off"
	EvConfigReloaded   EventKind = "config_reloaded"
	EvTelemetryDropped EventKind = "telemetry_dropped"
	// EvTouchMissing: the kiosk has no touch device (it shows
	// out-of-service until one is back, EvTouchRestored).
	EvTouchMissing  EventKind = "touch_missing"
	EvTouchRestored EventKind = "touch_restored"
)

var eventKinds = set(EvReaderUnplugged, EvReaderReplugged, EvCardError, EvTamper, EvOutboxStuck, EvOutboxDeadLetter,
	EvHelpRequested, EvCommandRejected, EvMaintenanceOn, EvMaintenanceOff, EvConfigReloaded, EvTelemetryDropped,
	EvTouchMissing, EvTouchRestored)

// CardErrorKind classifies a card error (EvCardError).
type CardErrorKind string

// Card error kinds.
const (
	CardUnreadable CardErrorKind = "unreadable"
	CardNotNHI     CardErrorKind = "not_nhi"
	CardExpired    CardErrorKind = "expired"
	CardRemoved    CardErrorKind = "removed_mid_read"
	CardProtocol   CardErrorKind = "protocol"
)

var cardErrorKinds = set(CardUnreadable, CardNotNHI, CardExpired, CardRemoved, CardProtocol)

// RejectReason is why a command was refused (EvCommandRejected, Ack).
type RejectReason string

// Reject reasons.
const (
	RejectMalformed  RejectReason = "malformed"
	RejectUnsigned   RejectReason = "unsigned"
	RejectUnknownKey RejectReason = "unknown_key"
	RejectBadSig     RejectReason = "bad_signature"
	RejectExpired    RejectReason = "expired"
	RejectReplay     RejectReason = "replay"
	RejectWrongKiosk RejectReason = "wrong_kiosk"
	RejectTooFar     RejectReason = "expiry_too_far"
	// RejectNotYetValid: issued further in the future than MaxClockSkew.
	RejectNotYetValid RejectReason = "not_yet_valid"
)

var rejectReasons = set(RejectMalformed, RejectUnsigned, RejectUnknownKey, RejectBadSig, RejectExpired,
	RejectReplay, RejectWrongKiosk, RejectTooFar, RejectNotYetValid)

// EventFields are the only details an event may carry: enumerations,
// counts and command ids. There is deliberately no free-text field.
type EventFields struct {
	CardError CardErrorKind `json:"card_error,omitempty"`
	Reject    RejectReason  `json:"reject,omitempty"`
	// CommandID is the rejected command's id (a Token), if it had one.
	CommandID Token `json:"command_id,omitempty"`
	// Count is a number that goes with the event (e.g. outbox depth,
	// telemetry dropped).
	Count int64 `json:"count,omitempty"`
	// AgeS is an age in seconds (e.g. the outbox's oldest item).
	AgeS int64 `json:"age_s,omitempty"`
}

// Event is the payload on /event.
type Event struct {
	V    int       `json:"v"`
	TS   time.Time `json:"ts"`
	Seq  uint64    `json:"seq"`
	Kind EventKind `json:"kind"`
	EventFields
}

// Validate checks an event's version and enumerations.
func (e Event) Validate() error {
	switch {
	case e.V != SchemaVersion:
		return fmt.Errorf("event: version %d, want %d", e.V, SchemaVersion)
	case !eventKinds[e.Kind]:
		return fmt.Errorf("event: unknown kind %q", e.Kind)
	case e.CardError != "" && !cardErrorKinds[e.CardError]:
		return fmt.Errorf("event: unknown card error %q", e.CardError)
	case e.Reject != "" && !rejectReasons[e.Reject]:
		return fmt.Errorf("event: unknown reject reason %q", e.Reject)
	case !e.CommandID.Valid():
		return fmt.Errorf("event: command id is not a token")
	}
	return nil
}
