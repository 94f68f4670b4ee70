package readertest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"

	"github.com/nhikiosk/nhikiosk/upstream/cardsim"
)

// The keys of the simulated card authentication (upstream/cardsim, the
// protocol's reference, not the NHI's algorithm). They are test keys: the
// issuer's private key lives here and nowhere else, so only virtual cards
// made by this package pass nhisim's simulated module, and no real card
// ever does.
var issuer = ed25519.NewKeyFromSeed(seed("nhikiosk TEST card issuer: a key for virtual cards, never for a real one"))

func seed(label string) []byte {
	s := sha256.Sum256([]byte(label))
	return s[:]
}

// CardKey is the key pair of p's virtual card: its own, derived from the
// card and ID numbers under a test secret, so the same person's card
// has the same key in every test.
func CardKey(p Person) ed25519.PrivateKey {
	m := hmac.New(sha256.New, seed("nhikiosk TEST card keys"))
	m.Write([]byte(p.CardNumber + "|" + p.IDNumber))
	return ed25519.NewKeyFromSeed(m.Sum(nil))
}

// WrongKey is a key pair that is not p's: a card with p's profile and
// certificate that signs with it is not genuine.
func WrongKey(p Person) ed25519.PrivateKey {
	m := hmac.New(sha256.New, seed("nhikiosk TEST wrong keys"))
	m.Write([]byte(p.CardNumber + "|" + p.IDNumber))
	return ed25519.NewKeyFromSeed(m.Sum(nil))
}

// Certificate is p's key certificate, signed by the test issuer.
func Certificate(p Person) ([]byte, error) {
	return cardsim.Certificate{CardNumber: p.CardNumber, IDNumber: p.IDNumber,
		Key: CardKey(p).Public().(ed25519.PublicKey)}.Sign(issuer)
}

// IssuerPublicKey is the test issuer's public key (cardsim.TestIssuer).
func IssuerPublicKey() ed25519.PublicKey { return bytes.Clone(issuer.Public().(ed25519.PublicKey)) }

// internalAuthenticate answers INTERNAL AUTHENTICATE: the challenge
// signed with the card's key (cardsim.ChallengeMessage), or the recorded
// answer a replaying card gives instead. c.mu is held.
func (c *Card) internalAuthenticate(apdu []byte) []byte {
	switch {
	case !c.selected:
		return sw(0x6985)
	case c.Replay != nil:
		return append(bytes.Clone(c.Replay), 0x90, 0x00)
	case c.Key == nil:
		return sw(0x6D00) // a card without the command: a plain profile card
	case len(apdu) < 6 || len(apdu) < 5+int(apdu[4]) || apdu[4] == 0:
		return sw(0x6700)
	}
	sig := ed25519.Sign(c.Key, cardsim.ChallengeMessage(apdu[5:5+int(apdu[4])]))
	c.signed = bytes.Clone(sig)
	return append(sig, 0x90, 0x00)
}

// certificate answers GET DATA 11 01 with the card's key certificate.
func (c *Card) certificate() []byte {
	switch {
	case !c.selected:
		return sw(0x6985)
	case c.Cert == nil:
		return sw(0x6A88) // referenced data not found
	}
	return append(bytes.Clone(c.Cert), 0x90, 0x00)
}

// LastSignature returns the last signature the card made, as a
// recording relay would have kept it (for replay tests).
func (c *Card) LastSignature() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.signed)
}

// Commands returns the instruction byte of every command the card was
// sent since it was made, in order.
func (c *Card) Commands() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.seen)
}

// Written returns what UPDATE BINARY wrote on a Writable card (nil if
// nothing).
func (c *Card) Written() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.written)
}
