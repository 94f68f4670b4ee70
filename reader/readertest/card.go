// Package readertest is a virtual NHI card: the APDU logic of a card
// (Card), a client that plugs it into vsmartcard's vpcd so pcscd sees it
// in a real reader (Insert), and an in-process reader.Device (Device) for
// the kiosk's demo and headless tests. Over vpcd and in process, the same
// Card answers and the same reader.ReadProfile asks.
//
// It holds only the fake people tests and demos make up; it must never be
// given a real person's data.
package readertest

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/text/encoding/traditionalchinese"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/upstream/cardsim"
)

// ATRs the virtual cards answer with.
var (
	// NHIATR is a published ATR of a real NHI card (T=1).
	NHIATR = []byte{0x3B, 0xFA, 0x18, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x45, 0x50, 0x56, 0x4A, 0x43, 0x4F, 0x50, 0x34, 0x53, 0x49, 0x44, 0x93}
	// ForeignATR is a generic T=1 JavaCard-style ATR of some other card.
	ForeignATR = []byte{0x3B, 0x8A, 0x80, 0x01, 0x4A, 0x43, 0x4F, 0x50, 0x33, 0x31, 0x56, 0x32, 0x33, 0x32, 0x7A}
)

// ErrPulled is what Respond returns when the card is set to be pulled out
// of the reader on this command instead of answering.
var ErrPulled = errors.New("card pulled out")

// Kind is how a virtual card behaves.
type Kind int

// Kinds of virtual card.
const (
	NHI     Kind = iota // an NHI card
	Foreign             // some other card: refuses the NHI applet (6A82)
	Mute                // gives no usable ATR: pcscd cannot power it
)

// Card is the APDU logic of a virtual card. Its fields are set before the
// card is inserted; Respond is safe for concurrent use.
type Card struct {
	Kind Kind
	// Profile is what READ PROFILE returns (normally Person.Encode()).
	Profile []byte
	// GetResponse makes READ PROFILE answer 61 39 and hand the data out on
	// GET RESPONSE, the way T=0 cards do.
	GetResponse bool
	// WantLe makes READ PROFILE answer 6C 39 unless the command carries
	// Le = 0x39, the way cards that insist on the exact Le do.
	WantLe bool
	// PullOn is the INS (0xA4 SELECT, 0xCA READ PROFILE, 0x88 INTERNAL
	// AUTHENTICATE) at which the card is pulled out of the reader instead
	// of answering; 0 never.
	PullOn byte
	// MuteOn is the INS from which on the card stops answering sensibly,
	// as a card that went dead mid-session: it answers one byte of noise
	// (not nothing: vpcd would wait for that forever, and pcscd with it);
	// 0 never.
	MuteOn byte

	// The simulated card authentication (upstream/cardsim): Key signs
	// INTERNAL AUTHENTICATE's challenge (nil: the card lacks the command),
	// Cert is the key certificate GET DATA 11 01 returns (nil: none).
	// NewCard gives the person's genuine pair; tests replace them to make
	// cards that are not genuine.
	Key  ed25519.PrivateKey
	Cert []byte
	// Replay, if set, is what the card answers INTERNAL AUTHENTICATE with
	// whatever the challenge: a signature recorded from another exchange.
	Replay []byte
	// Writable makes the card accept UPDATE BINARY (00 D6), which the
	// kiosk's relay must never send it: Written shows what arrived.
	Writable bool

	mu       sync.Mutex
	selected bool
	muted    bool
	seen     []byte // INS of every command received
	signed   []byte // the last signature made
	written  []byte
}

// NewCard is an NHI card of p.
func NewCard(p Person) (*Card, error) {
	b, err := p.Encode()
	if err != nil {
		return nil, err
	}
	cert, err := Certificate(p)
	if err != nil {
		return nil, err
	}
	return &Card{Kind: NHI, Profile: b, Key: CardKey(p), Cert: cert}, nil
}

// ATR is the card's answer to reset. A mute card's is longer than ISO
// 7816-3 allows (33 bytes), so a reader cannot power it.
func (c *Card) ATR() []byte {
	switch c.Kind {
	case Foreign:
		return bytes.Clone(ForeignATR)
	case Mute:
		return bytes.Repeat([]byte{0xFF}, 40)
	}
	return bytes.Clone(NHIATR)
}

// Reset powers the card up again: the applet is deselected, and a card
// that went mute answers again.
func (c *Card) Reset() {
	c.mu.Lock()
	c.selected, c.muted = false, false
	c.mu.Unlock()
}

// Respond answers one command APDU like the card would, or returns
// ErrPulled when the card is set to leave the reader at this command.
func (c *Card) Respond(apdu []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(apdu) < 4 {
		return sw(0x6700), nil // wrong length
	}
	c.seen = append(c.seen, apdu[1])
	if c.PullOn != 0 && apdu[1] == c.PullOn {
		return nil, ErrPulled
	}
	if c.MuteOn != 0 && apdu[1] == c.MuteOn {
		c.muted = true
	}
	switch {
	case c.Kind == Mute:
		return nil, nil // never reached through a reader; says nothing
	case c.muted:
		return []byte{0x00}, nil
	}
	switch {
	case apdu[1] == 0xA4:
		return c.selectApplet(apdu), nil
	case apdu[1] == cardsim.InsGetData && apdu[2] == cardsim.CertP1 && apdu[3] == cardsim.CertP2:
		return c.certificate(), nil
	case apdu[1] == 0xCA:
		return c.readProfile(apdu), nil
	case apdu[1] == 0xC0:
		return c.getResponse(apdu), nil
	case apdu[1] == cardsim.InsInternalAuth:
		return c.internalAuthenticate(apdu), nil
	case apdu[1] == 0xD6 && c.Writable:
		c.written = append(c.written, apdu[min(5, len(apdu)):]...)
		return sw(0x9000), nil
	}
	return sw(0x6D00), nil // INS not supported
}

func (c *Card) selectApplet(apdu []byte) []byte {
	aid := reader.SelectNHI[5:21]
	if c.Kind == NHI && len(apdu) >= 21 && apdu[4] == 0x10 && bytes.Equal(apdu[5:21], aid) {
		c.selected = true
		return sw(0x9000)
	}
	c.selected = false
	return sw(0x6A82) // file or application not found
}

func (c *Card) readProfile(apdu []byte) []byte {
	if !c.selected {
		return sw(0x6985) // conditions of use not satisfied
	}
	if !bytes.Equal(apdu[:4], reader.ReadProfileCmd[:4]) {
		return sw(0x6A86) // incorrect P1 P2
	}
	n := byte(len(c.Profile))
	if c.GetResponse {
		return sw(0x6100 | uint16(n))
	}
	if c.WantLe && (len(apdu) != 8 || apdu[7] != n) {
		return sw(0x6C00 | uint16(n))
	}
	return append(bytes.Clone(c.Profile), 0x90, 0x00)
}

func (c *Card) getResponse(apdu []byte) []byte {
	if !c.selected || !c.GetResponse || len(apdu) != 5 {
		return sw(0x6985)
	}
	n := min(int(apdu[4]), len(c.Profile))
	if apdu[4] == 0 {
		n = len(c.Profile)
	}
	return append(bytes.Clone(c.Profile[:n]), 0x90, 0x00)
}

func sw(w uint16) []byte { return []byte{byte(w >> 8), byte(w)} }

// Person is a made-up card holder. Tests and demos use obviously fake
// people (TestOne).
type Person struct {
	CardNumber string // 12 digits
	Name       string // UTF-8; encoded as Big5
	IDNumber   string
	BirthDate  time.Time
	Sex        reader.Sex
	IssueDate  time.Time
	// PadSpace pads the name with spaces instead of NUL bytes.
	PadSpace bool
}

// TestOne is the fake person the tests and the demo use by default.
var TestOne = Person{
	CardNumber: "000012345678",
	Name:       "測試一",
	IDNumber:   "A123456789",
	BirthDate:  time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC),
	Sex:        reader.Male,
	IssueDate:  time.Date(2015, 6, 30, 0, 0, 0, 0, time.UTC),
}

// Encode lays p out as the 57 bytes of READ PROFILE. It checks only what
// the layout needs (lengths, Big5); validation is the reader's job, so
// tests can make cards with wrong check digits.
func (p Person) Encode() ([]byte, error) {
	b := make([]byte, reader.ProfileSize)
	if len(p.CardNumber) != 12 || len(p.IDNumber) != 10 {
		return nil, errors.New("encode profile: card number needs 12 bytes, ID number 10")
	}
	name, err := traditionalchinese.Big5.NewEncoder().Bytes([]byte(p.Name))
	if err != nil {
		return nil, fmt.Errorf("encode profile: name is not Big5: %w", err)
	}
	if len(name) > 20 {
		return nil, fmt.Errorf("encode profile: name is %d bytes in Big5, the card holds 20", len(name))
	}
	for _, t := range []time.Time{p.BirthDate, p.IssueDate} {
		if y := t.Year() - 1911; y < 0 || y > 999 {
			return nil, errors.New("encode profile: a date is outside the ROC calendar's 3 digits")
		}
	}
	pad := byte(0)
	if p.PadSpace {
		pad = ' '
	}
	copy(b[0:], p.CardNumber)
	field := b[12:32]
	for i := range field {
		field[i] = pad
	}
	copy(field, name)
	copy(b[32:], p.IDNumber)
	copy(b[42:], rocDate(p.BirthDate))
	b[49] = byte(p.Sex)
	copy(b[50:], rocDate(p.IssueDate))
	return b, nil
}

func rocDate(t time.Time) string {
	return fmt.Sprintf("%03d%02d%02d", t.Year()-1911, int(t.Month()), t.Day())
}
