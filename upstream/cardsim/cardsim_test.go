package cardsim_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream/cardsim"
)

// The issuer key the module trusts is the public half of the one the
// virtual cards are certified with.
func TestIssuerKey(t *testing.T) {
	if !bytes.Equal(readertest.IssuerPublicKey(), cardsim.TestIssuer) {
		t.Fatalf("cardsim.TestIssuer is not readertest's issuer key")
	}
}

// answers runs the module's batch against a virtual card directly.
func answers(t testing.TB, c *readertest.Card, cmds [][]byte) []cardsim.Answer {
	t.Helper()
	var out []cardsim.Answer
	for _, cmd := range cmds {
		r, err := c.Respond(cmd)
		if err != nil || len(r) < 2 {
			t.Fatalf("card: %v", err)
		}
		n := len(r) - 2
		out = append(out, cardsim.Answer{Data: r[:n], SW: uint16(r[n])<<8 | uint16(r[n+1])})
	}
	return out
}

func TestModule(t *testing.T) {
	p := readertest.TestOne
	for name, tc := range map[string]struct {
		change  func(c *readertest.Card)
		claim   string
		genuine bool
	}{
		"genuine":          {change: func(*readertest.Card) {}, genuine: true},
		"wrong key":        {change: func(c *readertest.Card) { c.Key = readertest.WrongKey(p) }},
		"no certificate":   {change: func(c *readertest.Card) { c.Cert = nil }},
		"no key":           {change: func(c *readertest.Card) { c.Key = nil }},
		"claimed as other": {change: func(*readertest.Card) {}, claim: "000099999999"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := readertest.NewCard(p)
			if err != nil {
				t.Fatal(err)
			}
			tc.change(c)
			card := p.CardNumber
			if tc.claim != "" {
				card = tc.claim
			}
			s, cmds, err := cardsim.Module{}.Begin(card, p.IDNumber)
			if err != nil {
				t.Fatal(err)
			}
			next, err := s.Next(answers(t, c, cmds))
			if next != nil {
				t.Errorf("Next asked for more: %x", next)
			}
			if got := err == nil; got != tc.genuine {
				t.Errorf("Next = %v, want genuine %v", err, tc.genuine)
			}
			if err != nil && !errors.Is(err, cardsim.ErrNotGenuine) {
				t.Errorf("Next error %v does not wrap ErrNotGenuine", err)
			}
			if _, err := s.Next(answers(t, c, cmds)); err == nil {
				t.Errorf("a session judged twice")
			}
		})
	}
}

// Answers recorded in one exchange fail in the next: the challenge is new.
func TestModuleReplay(t *testing.T) {
	c, err := readertest.NewCard(readertest.TestOne)
	if err != nil {
		t.Fatal(err)
	}
	s1, cmds1, _ := cardsim.Module{}.Begin(readertest.TestOne.CardNumber, readertest.TestOne.IDNumber)
	recorded := answers(t, c, cmds1)
	if _, err := s1.Next(recorded); err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	s2, cmds2, _ := cardsim.Module{}.Begin(readertest.TestOne.CardNumber, readertest.TestOne.IDNumber)
	if bytes.Equal(cmds1[2], cmds2[2]) {
		t.Fatalf("two exchanges sent the same challenge")
	}
	if _, err := s2.Next(recorded); !errors.Is(err, cardsim.ErrNotGenuine) {
		t.Errorf("replayed answers = %v, want not genuine", err)
	}
}

func FuzzParseCertificate(f *testing.F) {
	good, err := readertest.Certificate(readertest.TestOne)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("NKC1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := cardsim.ParseCertificate(b, cardsim.TestIssuer)
		if err != nil {
			return
		}
		if len(c.Key) != ed25519.PublicKeySize || len(c.CardNumber) != 12 || len(c.IDNumber) != 10 {
			t.Fatalf("parsed %+v", c)
		}
		if !bytes.Equal(b, good) {
			t.Fatalf("a certificate other than the issuer's verified")
		}
	})
}

// FuzzNext: answers of any shape are judged without panicking, and only
// a genuine card's pass.
func FuzzNext(f *testing.F) {
	f.Add([]byte{0x90, 0x00}, []byte{0x90, 0x00}, []byte{0x90, 0x00}, uint16(0x9000))
	f.Add([]byte{}, []byte("NKC1"), make([]byte, 64), uint16(0x6A88))
	f.Fuzz(func(t *testing.T, a, b, c []byte, sw uint16) {
		s, _, err := cardsim.Module{}.Begin(readertest.TestOne.CardNumber, readertest.TestOne.IDNumber)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Next([]cardsim.Answer{{Data: a, SW: 0x9000}, {Data: b, SW: sw}, {Data: c, SW: 0x9000}}); err == nil {
			t.Fatalf("random answers passed")
		}
	})
}
