// Package sntp asks NTP servers for the time: the client side of the
// Simple Network Time Protocol (RFC 4330), one request and one answer over
// UDP. It parses and checks what a server sends and turns it into the time
// now; it never sets a clock (package clock decides whether to believe it).
//
// The kiosk's own clock may be decades off when it asks (a Raspberry Pi
// boots in 1970), so nothing here reads the local wall clock: the request
// carries a random transmit timestamp that the answer must echo (RFC 5905
// §9.1 "origin timestamp", so an off-path attacker cannot answer), the
// round trip is measured on the monotonic clock, and the server's 32-bit
// seconds are placed in the NTP era nearest a pivot the caller gives (the
// image's build time), so the answer stays right after 2036.
package sntp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// PacketSize is the size of an NTP packet without extensions.
const PacketSize = 48

// Header fields (RFC 5905 §7.3).
const (
	modeClient = 3
	modeServer = 4
	version    = 4
	leapAlarm  = 3 // clock not synchronised
	maxStratum = 15
)

// ntpEpoch is 1900-01-01T00:00:00Z, where NTP's era 0 begins.
var ntpEpoch = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// eraSeconds is the length of one NTP era (2^32 s, about 136 years).
const eraSeconds = 1 << 32

// Errors of an answer a server should not have sent. They wrap ErrBadAnswer.
var (
	// ErrBadAnswer is any answer that cannot be believed.
	ErrBadAnswer = errors.New("sntp: bad answer")
	// ErrKissOfDeath is a stratum-0 answer: the server refuses to serve
	// (its kiss code, e.g. RATE or DENY, is in the message).
	ErrKissOfDeath = fmt.Errorf("%w: kiss of death", ErrBadAnswer)
	// ErrUnsynchronised is an answer whose leap indicator says the
	// server's own clock is not set.
	ErrUnsynchronised = fmt.Errorf("%w: server not synchronised", ErrBadAnswer)
)

// Packet is what the kiosk reads of an NTP server's answer.
type Packet struct {
	Leap    uint8
	Version uint8
	Mode    uint8
	Stratum uint8
	// Origin, Receive and Transmit are the raw 64-bit timestamps: the
	// request's transmit timestamp echoed, when the server received it,
	// when it sent the answer.
	Origin, Receive, Transmit uint64
	// RefID is the reference id; for a kiss of death, the 4-letter code.
	RefID [4]byte
}

// request returns a client request whose transmit timestamp is nonce.
func request(nonce uint64) []byte {
	b := make([]byte, PacketSize)
	b[0] = version<<3 | modeClient
	binary.BigEndian.PutUint64(b[40:], nonce)
	return b
}

// Parse reads an NTP server's answer to the request whose transmit
// timestamp was nonce and checks it: long enough, a server's answer of
// version 3 or 4, the nonce echoed, a synchronised server of stratum 1 to
// 15, and receive and transmit timestamps set, in order.
func Parse(b []byte, nonce uint64) (Packet, error) {
	if len(b) < PacketSize {
		return Packet{}, fmt.Errorf("%w: %d bytes, want at least %d", ErrBadAnswer, len(b), PacketSize)
	}
	p := Packet{
		Leap:     b[0] >> 6,
		Version:  b[0] >> 3 & 7,
		Mode:     b[0] & 7,
		Stratum:  b[1],
		Origin:   binary.BigEndian.Uint64(b[24:]),
		Receive:  binary.BigEndian.Uint64(b[32:]),
		Transmit: binary.BigEndian.Uint64(b[40:]),
	}
	copy(p.RefID[:], b[12:16])
	switch {
	case p.Mode != modeServer:
		return p, fmt.Errorf("%w: mode %d, want %d (server)", ErrBadAnswer, p.Mode, modeServer)
	case p.Version < 3 || p.Version > 4:
		return p, fmt.Errorf("%w: version %d", ErrBadAnswer, p.Version)
	case p.Origin != nonce:
		return p, fmt.Errorf("%w: origin timestamp is not our request's", ErrBadAnswer)
	case p.Stratum == 0:
		return p, fmt.Errorf("%w %q", ErrKissOfDeath, kissCode(p.RefID))
	case p.Stratum > maxStratum:
		return p, fmt.Errorf("%w: stratum %d", ErrBadAnswer, p.Stratum)
	case p.Leap == leapAlarm:
		return p, ErrUnsynchronised
	case p.Receive == 0 || p.Transmit == 0:
		return p, fmt.Errorf("%w: timestamps not set", ErrBadAnswer)
	case p.Transmit < p.Receive && p.Receive-p.Transmit < eraSeconds/2<<32:
		// Sent before it was received (allowing for an era boundary
		// between the two).
		return p, fmt.Errorf("%w: transmit before receive", ErrBadAnswer)
	}
	return p, nil
}

// kissCode returns a kiss-of-death code if it is printable ASCII.
func kissCode(id [4]byte) string {
	for _, c := range id {
		if c < ' ' || c > '~' {
			return "?"
		}
	}
	return string(id[:])
}

// Time converts an NTP timestamp into the time in the era that puts it
// nearest pivot.
func Time(ts uint64, pivot time.Time) time.Time {
	secs, frac := int64(ts>>32), ts&0xffffffff
	t := ntpEpoch.Add(time.Duration(secs) * time.Second).Add(time.Duration(frac * uint64(time.Second) >> 32))
	// Move by whole eras towards the pivot. Durations only reach ±292
	// years, so step one era at a time.
	const era = time.Duration(eraSeconds) * time.Second
	for t.Before(pivot) && pivot.Sub(t) > era/2 {
		t = t.Add(era)
	}
	for t.After(pivot) && t.Sub(pivot) > era/2 {
		t = t.Add(-era)
	}
	return t
}

// serverDelay is how long the server held the request: transmit minus
// receive, in the era arithmetic of 64-bit timestamps.
func serverDelay(p Packet) time.Duration {
	d := p.Transmit - p.Receive // wraps correctly across an era boundary
	return time.Duration(d>>32*uint64(time.Second)) + time.Duration((d&0xffffffff)*uint64(time.Second)>>32)
}
