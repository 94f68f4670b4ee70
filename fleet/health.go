package fleet

import (
	"fmt"
	"time"
)

// Health is the periodic snapshot on /health. The appliance fills it in
// through the HealthFunc it gives the Agent; the Agent adds TS, V and
// TelemetryDropped. Nothing in it identifies a person: counts, sizes,
// durations and Tokens only.
type Health struct {
	V  int       `json:"v"`
	TS time.Time `json:"ts"`
	// UptimeS is seconds since boot.
	UptimeS int64 `json:"uptime_s"`
	// CPUTempC is the SoC temperature in °C; nil where unknown.
	CPUTempC *float64 `json:"cpu_temp_c,omitempty"`
	// Load1 is the one-minute load average.
	Load1 float64 `json:"load1"`
	// MemUsedPct is used memory in percent of total.
	MemUsedPct float64 `json:"mem_used_pct"`
	// PermFreePct and PermFreeBytes describe free space on /perm.
	PermFreePct   float64 `json:"perm_free_pct"`
	PermFreeBytes uint64  `json:"perm_free_bytes"`
	Reader        Reader  `json:"reader"`
	// Display is the display backend in use ("fbdev", "glfw", "headless").
	Display  Token          `json:"display"`
	Upstream UpstreamHealth `json:"upstream"`
	Outbox   Outbox         `json:"outbox"`
	Sessions Sessions       `json:"sessions"`
	// Errors counts errors since boot by kind.
	Errors map[ErrorKind]uint64 `json:"errors,omitempty"`
	// TelemetryDropped counts events and publishes the agent dropped
	// because its queue was full.
	TelemetryDropped uint64 `json:"telemetry_dropped"`
	// Clock is where the kiosk's time came from; absent from kiosks that
	// do not report it (clockhealth.go).
	Clock *ClockHealth `json:"clock,omitempty"`
}

// Reader is the card reader as the kiosk sees it.
type Reader struct {
	Present bool `json:"present"`
	// Name is the reader's model name (e.g. "ACS-ACR39U"), a Token.
	Name Token `json:"name,omitempty"`
}

// UpstreamHealth is whether the registration service answers.
type UpstreamHealth struct {
	Reachable bool `json:"reachable"`
	// LastLatencyMS is the last request's round trip in milliseconds.
	LastLatencyMS int64 `json:"last_latency_ms"`
}

// Outbox is the queue of registrations not yet accepted upstream.
type Outbox struct {
	Depth int `json:"depth"`
	// OldestAgeS is the age in seconds of the oldest queued item, 0 if empty.
	OldestAgeS int64 `json:"oldest_age_s"`
	// DeadLetters counts registrations the upstream refused (409, 422,
	// any final 4xx): kept encrypted on the kiosk for an operator, never
	// deleted silently. Each new one is also an EvOutboxDeadLetter.
	DeadLetters int `json:"dead_letters,omitempty"`
	// SetAside counts entries the kiosk could not read and moved out of
	// the way of the others.
	SetAside int `json:"set_aside,omitempty"`
}

// Sessions counts citizens' sessions since local midnight.
type Sessions struct {
	Started   uint64                 `json:"started"`
	Completed uint64                 `json:"completed"`
	Aborted   map[AbortReason]uint64 `json:"aborted,omitempty"`
}

// AbortReason is why a session ended before completion.
type AbortReason string

// Abort reasons.
const (
	AbortCardRemoved AbortReason = "card_removed"
	AbortIdle        AbortReason = "idle_timeout"
	AbortMaxDuration AbortReason = "max_duration"
	AbortCancelled   AbortReason = "cancelled"
	AbortUpstream    AbortReason = "upstream_error"
	AbortCardError   AbortReason = "card_error"
)

var abortReasons = set(AbortCardRemoved, AbortIdle, AbortMaxDuration, AbortCancelled, AbortUpstream, AbortCardError)

// ErrorKind classifies errors the kiosk counts.
type ErrorKind string

// Error kinds.
const (
	ErrKindReader   ErrorKind = "reader"
	ErrKindCard     ErrorKind = "card"
	ErrKindUpstream ErrorKind = "upstream"
	ErrKindDisplay  ErrorKind = "display"
	ErrKindOutbox   ErrorKind = "outbox"
	ErrKindConfig   ErrorKind = "config"
	ErrKindInternal ErrorKind = "internal"
)

var errorKinds = set(ErrKindReader, ErrKindCard, ErrKindUpstream, ErrKindDisplay, ErrKindOutbox, ErrKindConfig, ErrKindInternal)

func set[T comparable](vs ...T) map[T]bool {
	m := make(map[T]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// Ranges a health value must lie in; anything outside is a broken sensor
// or a hostile kiosk, and the whole snapshot is refused (issue 14).
const (
	MinTempC      = -60.0
	MaxTempC      = 200.0
	MaxLoad       = 10000.0
	MaxUptimeS    = 20 * 365 * 24 * 3600
	MaxPermBytes  = 1 << 50 // 1 PiB
	MaxLatencyMS  = 3600 * 1000
	MaxCount      = 1 << 40 // any counter: sessions, errors, drops, outbox depth
	MaxOutboxAgeS = MaxUptimeS
)

// Validate checks a health payload: version, Tokens, enumeration keys and
// the range of every number.
func (h Health) Validate() error {
	if h.V != SchemaVersion {
		return fmt.Errorf("health: version %d, want %d", h.V, SchemaVersion)
	}
	if err := h.validateRanges(); err != nil {
		return err
	}
	if !h.Reader.Name.Valid() || !h.Display.Valid() {
		return fmt.Errorf("health: reader name or display is not a token")
	}
	for r := range h.Sessions.Aborted {
		if !abortReasons[r] {
			return fmt.Errorf("health: unknown abort reason %q", r)
		}
	}
	for k := range h.Errors {
		if !errorKinds[k] {
			return fmt.Errorf("health: unknown error kind %q", k)
		}
	}
	return h.Clock.Validate()
}

func (h Health) validateRanges() error {
	in := func(v, lo, hi float64) bool { return v >= lo && v <= hi } // false for NaN
	switch {
	case h.UptimeS < 0 || h.UptimeS > MaxUptimeS:
		return fmt.Errorf("health: uptime %d s out of range", h.UptimeS)
	case h.CPUTempC != nil && !in(*h.CPUTempC, MinTempC, MaxTempC):
		return fmt.Errorf("health: temperature %g °C out of range", *h.CPUTempC)
	case !in(h.Load1, 0, MaxLoad):
		return fmt.Errorf("health: load %g out of range", h.Load1)
	case !in(h.MemUsedPct, 0, 100) || !in(h.PermFreePct, 0, 100):
		return fmt.Errorf("health: a percentage out of 0–100")
	case h.PermFreeBytes > MaxPermBytes:
		return fmt.Errorf("health: free bytes %d out of range", h.PermFreeBytes)
	case h.Upstream.LastLatencyMS < 0 || h.Upstream.LastLatencyMS > MaxLatencyMS:
		return fmt.Errorf("health: latency %d ms out of range", h.Upstream.LastLatencyMS)
	case h.Outbox.Depth < 0 || h.Outbox.Depth > MaxCount || h.Outbox.OldestAgeS < 0 || h.Outbox.OldestAgeS > MaxOutboxAgeS:
		return fmt.Errorf("health: outbox out of range")
	case h.Sessions.Started > MaxCount || h.Sessions.Completed > MaxCount || h.TelemetryDropped > MaxCount:
		return fmt.Errorf("health: a count out of range")
	case len(h.Sessions.Aborted) > len(abortReasons) || len(h.Errors) > len(errorKinds):
		return fmt.Errorf("health: too many keys")
	}
	for _, n := range h.Sessions.Aborted {
		if n > MaxCount {
			return fmt.Errorf("health: a count out of range")
		}
	}
	for _, n := range h.Errors {
		if n > MaxCount {
			return fmt.Errorf("health: a count out of range")
		}
	}
	return nil
}
