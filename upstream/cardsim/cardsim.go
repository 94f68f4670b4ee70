// Package cardsim is the reference security module of the kiosk's card
// authentication exchange (protocol nhikiosk-card-auth/1, api/openapi.yaml):
// a simulation for nhisim and the tests. It is NOT the NHI's algorithm.
// The NHI authenticates its cards with its own security module, behind the
// same exchange; nothing of it is known or imitated here, and no real card
// passes this module.
//
// The simulated scheme: every virtual card holds an Ed25519 key pair of its
// own and a key certificate that binds the public key to the card's card
// number and ID number, signed by a test issuer. The module's one batch
// selects the NHI application, reads the certificate (GET DATA, 00 CA 11
// 01) and sends a fresh random challenge with INTERNAL AUTHENTICATE (00 88
// 00 00), which the card signs. The card is genuine when the certificate
// verifies under the issuer's key, names the card and ID numbers the kiosk
// read from the card, and the signature over this exchange's challenge
// verifies under the certified key. The challenge is new in every
// exchange, so an answer recorded in one fails in any other.
//
// This package holds public keys only. The issuer's private key and the
// cards' exist only in test code (reader/readertest), which makes the
// virtual cards.
package cardsim

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// TestIssuer is the public key of the test issuer that certifies the
// virtual cards' keys (readertest holds its private key).
var TestIssuer = mustKey("4b98838d2869d41ae1fdd17da325e9aa985ebb7ae4e28c403514edc45dd4b0e0")

func mustKey(h string) ed25519.PublicKey {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != ed25519.PublicKeySize {
		panic("cardsim: bad built-in key")
	}
	return b
}

// Commands of the simulated scheme, as the module sends them and the
// virtual card answers them.
var (
	// SelectNHI selects the NHI application (the same command the profile
	// read sends).
	SelectNHI = []byte{
		0x00, 0xA4, 0x04, 0x00, 0x10,
		0xD1, 0x58, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00,
	}
	// GetCertificate reads the card's key certificate: GET DATA with P1 P2
	// 11 01, Le 00.
	GetCertificate = []byte{0x00, 0xCA, 0x11, 0x01, 0x00}
)

// INS and P1 P2 of the commands, for the card's side.
const (
	InsInternalAuth = 0x88
	InsGetData      = 0xCA
	CertP1, CertP2  = 0x11, 0x01
)

// ChallengeSize is the length of the challenge INTERNAL AUTHENTICATE
// carries.
const ChallengeSize = 32

// InternalAuthenticate is the command that asks the card to sign
// challenge: 00 88 00 00 Lc challenge 00.
func InternalAuthenticate(challenge []byte) []byte {
	cmd := append([]byte{0x00, InsInternalAuth, 0x00, 0x00, byte(len(challenge))}, challenge...)
	return append(cmd, 0x00)
}

// ChallengeMessage is what the card signs for challenge: a label naming
// this simulation, then the challenge.
func ChallengeMessage(challenge []byte) []byte {
	return append([]byte("nhikiosk card-auth sim v1: internal authenticate\x00"), challenge...)
}

// Certificate is a virtual card's key certificate: its card number, its
// ID number and its public key.
type Certificate struct {
	CardNumber string // 12 ASCII digits
	IDNumber   string // 10 ASCII characters
	Key        ed25519.PublicKey
}

// Layout of an encoded certificate: magic, card number, ID number,
// public key, then the issuer's signature over all of that.
const (
	certMagic = "NKC1"
	certBody  = len(certMagic) + 12 + 10 + ed25519.PublicKeySize
	// CertificateSize is the length of an encoded certificate.
	CertificateSize = certBody + ed25519.SignatureSize
)

// ErrCertificate is a certificate that does not parse or verify.
var ErrCertificate = errors.New("card key certificate invalid")

// body lays c out without its signature.
func (c Certificate) body() ([]byte, error) {
	if len(c.CardNumber) != 12 || len(c.IDNumber) != 10 || len(c.Key) != ed25519.PublicKeySize {
		return nil, errors.New("cardsim: certificate fields have the wrong length")
	}
	b := make([]byte, 0, CertificateSize)
	b = append(b, certMagic...)
	b = append(b, c.CardNumber...)
	b = append(b, c.IDNumber...)
	return append(b, c.Key...), nil
}

// Sign encodes c signed by issuer. The issuer's key is test code's
// (readertest); this package never holds one.
func (c Certificate) Sign(issuer ed25519.PrivateKey) ([]byte, error) {
	b, err := c.body()
	if err != nil {
		return nil, err
	}
	return append(b, ed25519.Sign(issuer, b)...), nil
}

// ParseCertificate decodes b and verifies its signature under issuer.
func ParseCertificate(b []byte, issuer ed25519.PublicKey) (Certificate, error) {
	if len(b) != CertificateSize || !bytes.HasPrefix(b, []byte(certMagic)) {
		return Certificate{}, fmt.Errorf("%w: %d bytes", ErrCertificate, len(b))
	}
	if len(issuer) != ed25519.PublicKeySize || !ed25519.Verify(issuer, b[:certBody], b[certBody:]) {
		return Certificate{}, fmt.Errorf("%w: issuer's signature", ErrCertificate)
	}
	o := len(certMagic)
	return Certificate{
		CardNumber: string(b[o : o+12]),
		IDNumber:   string(b[o+12 : o+22]),
		Key:        bytes.Clone(b[o+22 : certBody]),
	}, nil
}

// ErrNotGenuine is the module's verdict on a card that failed.
var ErrNotGenuine = errors.New("card not genuine")

// Answer is the card's answer to one command: its data and status word.
type Answer struct {
	Data []byte
	SW   uint16
}

// Module is the simulated security module.
type Module struct {
	// Issuer certifies the cards' keys; nil means TestIssuer.
	Issuer ed25519.PublicKey
	// Rand is where challenges come from; nil means crypto/rand.
	Rand io.Reader
}

// Name identifies the module in the API's answers and in logs.
func (Module) Name() string { return "nhisim-reference-sim" }

// Session is one exchange with one card.
type Session struct {
	issuer            ed25519.PublicKey
	cardNumber, idNum string
	challenge         []byte
	decided           bool
}

// Begin starts authenticating the card the kiosk read as cardNumber and
// idNumber and returns the one batch: select, read the certificate, sign
// a fresh challenge.
func (m Module) Begin(cardNumber, idNumber string) (*Session, [][]byte, error) {
	r := m.Rand
	if r == nil {
		r = rand.Reader
	}
	ch := make([]byte, ChallengeSize)
	if _, err := io.ReadFull(r, ch); err != nil {
		return nil, nil, fmt.Errorf("cardsim: challenge: %w", err)
	}
	issuer := m.Issuer
	if issuer == nil {
		issuer = TestIssuer
	}
	s := &Session{issuer: issuer, cardNumber: cardNumber, idNum: idNumber, challenge: ch}
	return s, [][]byte{bytes.Clone(SelectNHI), bytes.Clone(GetCertificate), InternalAuthenticate(ch)}, nil
}

// Next judges the answers to the batch. It never asks for more: it
// returns nil for a genuine card and an error wrapping ErrNotGenuine,
// saying which check failed (never a value), for any other. A session
// judges once.
func (s *Session) Next(as []Answer) ([][]byte, error) {
	if s.decided {
		return nil, fmt.Errorf("%w: the exchange is over", ErrNotGenuine)
	}
	s.decided = true
	if len(as) != 3 {
		return nil, fmt.Errorf("%w: %d answers to 3 commands", ErrNotGenuine, len(as))
	}
	for i, a := range as {
		if a.SW != 0x9000 {
			return nil, fmt.Errorf("%w: command %d answered %04X", ErrNotGenuine, i+1, a.SW)
		}
	}
	c, err := ParseCertificate(as[1].Data, s.issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotGenuine, err)
	}
	if c.CardNumber != s.cardNumber || c.IDNumber != s.idNum {
		return nil, fmt.Errorf("%w: the certificate is another card's", ErrNotGenuine)
	}
	if !ed25519.Verify(c.Key, ChallengeMessage(s.challenge), as[2].Data) {
		return nil, fmt.Errorf("%w: the signature over this exchange's challenge does not verify", ErrNotGenuine)
	}
	return nil, nil
}
