// Package fleet owns the kiosk side of fleet management: the MQTT topic and
// payload schema (version 1, documented in docs/mqtt.md) shared with
// cmd/fleetd, the signing and verification of operator commands, and the
// Agent the appliance embeds to report state, health and events and to
// receive commands.
//
// It must never carry personal data. Every payload is a typed struct whose
// strings are enumerations or values checked against a narrow pattern
// (Validate), so no free-form text a citizen typed or a card held can reach
// the broker. It never blocks the caller: publishing goes through bounded
// queues whose drops are counted.
package fleet

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// SchemaVersion is the payload version carried in every message ("v") and
// in the topic prefix.
const SchemaVersion = 1

// TopicRoot is the first two levels of every fleet topic.
const TopicRoot = "nhikiosk/v1"

// Channels under a kiosk's topic prefix.
const (
	ChanState  = "state"  // retained, QoS 1: online / offline / maintenance + birth
	ChanHealth = "health" // retained, QoS 0: periodic snapshot
	ChanEvent  = "event"  // QoS 1: things that happened
	ChanCmd    = "cmd"    // QoS 1: signed operator commands (to the kiosk)
	ChanAck    = "ack"    // QoS 1: results of commands
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidName reports whether s may be a site or kiosk id (the alphabet of
// config's site and kiosk_id).
func ValidName(s string) bool { return nameRE.MatchString(s) }

// KioskRef names one kiosk: its site and its id within the site.
type KioskRef struct {
	Site  string `json:"site"`
	Kiosk string `json:"kiosk"`
}

// String returns "site/kiosk".
func (k KioskRef) String() string { return k.Site + "/" + k.Kiosk }

// Username is the broker user name a kiosk connects with: "site.kiosk".
// Brokers' ACLs (docs/mqtt.md) tie it to the kiosk's own topics.
func (k KioskRef) Username() string { return k.Site + "." + k.Kiosk }

// ClientIDPrefix starts every kiosk's MQTT client id; no other client may
// use it.
const ClientIDPrefix = "kiosk-"

// ClientID is the MQTT client id kiosk k must connect with: brokers bind
// it to the user name (issue 14) so one kiosk cannot take another's
// session.
func (k KioskRef) ClientID() string { return ClientIDPrefix + k.Username() }

// ParseKioskRef parses "site/kiosk".
func ParseKioskRef(s string) (KioskRef, error) {
	site, kiosk, ok := strings.Cut(s, "/")
	k := KioskRef{site, kiosk}
	if !ok || !ValidName(site) || !ValidName(kiosk) {
		return k, fmt.Errorf("parse kiosk %q: want site/kiosk in lower-case letters, digits and '-'", s)
	}
	return k, nil
}

// KioskFromUsername parses a broker user name "site.kiosk".
func KioskFromUsername(u string) (KioskRef, bool) {
	site, kiosk, ok := strings.Cut(u, ".")
	return KioskRef{site, kiosk}, ok && ValidName(site) && ValidName(kiosk)
}

// Topic returns the topic of one channel of kiosk k.
func Topic(k KioskRef, channel string) string {
	return TopicRoot + "/" + k.Site + "/" + k.Kiosk + "/" + channel
}

// AllTopics is the filter fleetd subscribes to for everything kiosks send.
const AllTopics = TopicRoot + "/+/+/+"

// ParseTopic splits a fleet topic into its kiosk and channel.
func ParseTopic(topic string) (KioskRef, string, error) {
	parts := strings.Split(topic, "/")
	if len(parts) != 5 || parts[0]+"/"+parts[1] != TopicRoot || !ValidName(parts[2]) || !ValidName(parts[3]) {
		return KioskRef{}, "", fmt.Errorf("parse topic %q: not %s/{site}/{kiosk}/{channel}", topic, TopicRoot)
	}
	switch parts[4] {
	case ChanState, ChanHealth, ChanEvent, ChanCmd, ChanAck:
	default:
		return KioskRef{}, "", fmt.Errorf("parse topic %q: unknown channel %q", topic, parts[4])
	}
	return KioskRef{parts[2], parts[3]}, parts[4], nil
}

// Lifecycle is a kiosk's published state.
type Lifecycle string

// Lifecycle states.
const (
	Online      Lifecycle = "online"
	Offline     Lifecycle = "offline"
	Maintenance Lifecycle = "maintenance"
)

// State is the retained payload on /state. The kiosk publishes it at every
// connect (its birth, with Birth set) and when maintenance changes; the
// broker publishes the Last Will (State Offline, Will true) when the
// connection dies without a goodbye.
type State struct {
	V     int       `json:"v"`
	State Lifecycle `json:"state"`
	TS    time.Time `json:"ts"`
	// Will is true on the Last Will: the broker, not the kiosk, said offline.
	Will  bool   `json:"will,omitempty"`
	Birth *Birth `json:"birth,omitempty"`
}

// Birth describes the running software, sent with every online state
// (Sparkplug's NBIRTH idea: a consumer that joins late learns it from the
// retained message).
type Birth struct {
	Version    Token     `json:"version"`
	Image      Token     `json:"image"`
	BootTime   time.Time `json:"boot_time"`
	ConfigHash Token     `json:"config_hash"`
	// HealthIntervalS is how often (seconds) the kiosk publishes health:
	// fleetd counts a kiosk not heard from for a few of these as offline,
	// Last Will or not (issue 14). 0: not said (fleetd assumes its default).
	HealthIntervalS int64 `json:"health_interval_s,omitempty"`
}

// MaxHealthIntervalS bounds Birth.HealthIntervalS (config allows at most 1 h).
const MaxHealthIntervalS = 3600

// Token is a short machine-made string (a version, a build id, a hash, a
// reader model): printable ASCII without spaces that could carry prose, at
// most 64 bytes, and nothing shaped like a Taiwanese ID number. Validate
// rejects anything else.
type Token string

var (
	tokenRE = regexp.MustCompile(`^[A-Za-z0-9._:+()/-]{0,64}$`)
	idNumRE = regexp.MustCompile(`[A-Z][1289][0-9]{8}`)
)

// Valid reports whether t fits the Token alphabet.
func (t Token) Valid() bool {
	return tokenRE.MatchString(string(t)) && !idNumRE.MatchString(string(t))
}

// Validate checks a state payload from the wire or before publishing.
func (s State) Validate() error {
	if s.V != SchemaVersion {
		return fmt.Errorf("state: version %d, want %d", s.V, SchemaVersion)
	}
	switch s.State {
	case Online, Offline, Maintenance:
	default:
		return fmt.Errorf("state: unknown state %q", s.State)
	}
	if b := s.Birth; b != nil {
		for _, t := range []Token{b.Version, b.Image, b.ConfigHash} {
			if !t.Valid() {
				return fmt.Errorf("state: birth field %q is not a token", t)
			}
		}
		if b.HealthIntervalS < 0 || b.HealthIntervalS > MaxHealthIntervalS {
			return fmt.Errorf("state: health interval %d s out of range", b.HealthIntervalS)
		}
	}
	return nil
}
