package reader_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream/cardsim"
)

// simExchange is the far end of a card authentication in process: the
// reference module (cardsim) judging the card, as nhisim does behind the
// API, with a way to add commands a hostile far end would send.
type simExchange struct {
	m       cardsim.Module
	s       *cardsim.Session
	extra   [][]byte // appended to the first batch
	more    bool     // ask for another batch every round, forever
	begun   string   // card and ID numbers Begin was given
	rounds  int
	answers [][]byte // every answer relayed, in order
	verdict error    // the module's decision, once made
}

func (x *simExchange) Begin(_ context.Context, card, id string, atr []byte) ([][]byte, error) {
	if len(atr) == 0 {
		return nil, errors.New("no ATR")
	}
	x.begun = card + "/" + id
	s, cmds, err := x.m.Begin(card, id)
	x.s = s
	return append(cmds, x.extra...), err
}

func (x *simExchange) Continue(_ context.Context, rs [][]byte) ([][]byte, error) {
	x.rounds++
	var as []cardsim.Answer
	for _, r := range rs {
		x.answers = append(x.answers, bytes.Clone(r))
		n := len(r) - 2
		as = append(as, cardsim.Answer{Data: r[:n], SW: uint16(r[n])<<8 | uint16(r[n+1])})
	}
	if x.more {
		return [][]byte{bytes.Clone(cardsim.SelectNHI)}, nil
	}
	if x.rounds == 1 {
		_, x.verdict = x.s.Next(as)
	}
	return nil, nil
}

// relay runs reader.Authenticate against card in a virtual reader.
func relay(t *testing.T, card *readertest.Card, x *simExchange) error {
	t.Helper()
	d := readertest.NewDevice("virtual")
	if err := d.Insert(card); err != nil {
		t.Fatal(err)
	}
	return d.Authenticate(context.Background(), x)
}

func TestAuthenticateGenuine(t *testing.T) {
	card := nhiCard(t, readertest.TestOne)
	x := &simExchange{}
	if err := relay(t, card, x); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if x.verdict != nil {
		t.Errorf("verdict = %v, want genuine", x.verdict)
	}
	if got, want := x.begun, "000012345678/A123456789"; got != want {
		t.Errorf("Begin got %s, want %s", got, want)
	}
	// The profile read (SELECT, READ PROFILE), then the module's batch.
	if got, want := card.Commands(), []byte{0xA4, 0xCA, 0xA4, 0xCA, 0x88}; !bytes.Equal(got, want) {
		t.Errorf("card saw INS % X, want % X", got, want)
	}
	if x.rounds != 1 || len(x.answers) != 3 {
		t.Errorf("%d rounds, %d answers; want 1 round of 3", x.rounds, len(x.answers))
	}
}

func TestAuthenticateNotGenuine(t *testing.T) {
	other := readertest.TestOne
	other.CardNumber, other.IDNumber = "000099999999", "B123456780"
	otherCert, err := readertest.Certificate(other)
	if err != nil {
		t.Fatal(err)
	}
	recorder := nhiCard(t, readertest.TestOne)
	if err := relay(t, recorder, &simExchange{}); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(c *readertest.Card){
		"wrong key":              func(c *readertest.Card) { c.Key = readertest.WrongKey(readertest.TestOne) },
		"no key (profile only)":  func(c *readertest.Card) { c.Key, c.Cert = nil, nil },
		"another card's cert":    func(c *readertest.Card) { c.Cert = otherCert },
		"forged cert":            func(c *readertest.Card) { c.Cert[20] ^= 1 },
		"replayed signature":     func(c *readertest.Card) { c.Replay = recorder.LastSignature() },
		"signature of the other": func(c *readertest.Card) { c.Key = readertest.CardKey(other) },
	} {
		t.Run(name, func(t *testing.T) {
			card := nhiCard(t, readertest.TestOne)
			change(card)
			x := &simExchange{}
			if err := relay(t, card, x); err != nil {
				t.Fatalf("Authenticate: %v (the relay itself should pass)", err)
			}
			if !errors.Is(x.verdict, cardsim.ErrNotGenuine) {
				t.Errorf("verdict = %v, want not genuine", x.verdict)
			}
		})
	}
}

// A batch with one command off the allow-list is refused whole: the card,
// which would have obeyed, never sees any of it.
func TestAuthenticateRefusesDisallowed(t *testing.T) {
	for name, cmd := range map[string][]byte{
		"UPDATE BINARY":        {0x00, 0xD6, 0x00, 0x00, 0x02, 0xAA, 0xBB},
		"SELECT another app":   {0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10},
		"VERIFY PIN":           {0x00, 0x20, 0x00, 0x80, 0x04, 0x31, 0x32, 0x33, 0x34},
		"secure messaging":     {0x0C, 0xB0, 0x00, 0x00, 0x00},
		"extended length":      {0x00, 0x88, 0x00, 0x00, 0x00, 0x00, 0x01, 0xAA},
		"GET RESPONSE":         {0x00, 0xC0, 0x00, 0x00, 0x10},
		"too long":             append([]byte{0x00, 0x88, 0x00, 0x00, 0xFF}, make([]byte, 257)...),
		"wrong Lc":             {0x00, 0x88, 0x00, 0x00, 0x05, 0x01},
		"MANAGE CHANNEL":       {0x00, 0x70, 0x00, 0x00, 0x01},
		"PERFORM SECURITY OP.": {0x00, 0x2A, 0x9E, 0x9A, 0x02, 0x01, 0x02},
	} {
		t.Run(name, func(t *testing.T) {
			card := nhiCard(t, readertest.TestOne)
			card.Writable = true
			x := &simExchange{extra: [][]byte{cmd}}
			err := relay(t, card, x)
			if !errors.Is(err, reader.ErrRelayRefused) {
				t.Fatalf("Authenticate = %v, want ErrRelayRefused", err)
			}
			if got, want := card.Commands(), []byte{0xA4, 0xCA}; !bytes.Equal(got, want) {
				t.Errorf("card saw INS % X, want only the profile read % X", got, want)
			}
			if w := card.Written(); w != nil {
				t.Errorf("the card was written: % X", w)
			}
			if x.rounds != 0 {
				t.Errorf("the far end got %d rounds of answers", x.rounds)
			}
		})
	}
}

func TestAuthenticateBounds(t *testing.T) {
	t.Run("rounds", func(t *testing.T) {
		card := nhiCard(t, readertest.TestOne)
		x := &simExchange{more: true}
		err := relay(t, card, x)
		if !errors.Is(err, reader.ErrRelayRefused) {
			t.Fatalf("Authenticate = %v, want ErrRelayRefused", err)
		}
		if x.rounds != reader.MaxRelayRounds {
			t.Errorf("%d rounds relayed, want %d", x.rounds, reader.MaxRelayRounds)
		}
	})
	t.Run("batch", func(t *testing.T) {
		card := nhiCard(t, readertest.TestOne)
		var extra [][]byte
		for range reader.MaxRelayBatch {
			extra = append(extra, bytes.Clone(cardsim.GetCertificate))
		}
		err := relay(t, card, &simExchange{extra: extra})
		if !errors.Is(err, reader.ErrRelayRefused) {
			t.Fatalf("Authenticate = %v, want ErrRelayRefused", err)
		}
		if got := card.Commands(); len(got) != 2 {
			t.Errorf("card saw INS % X, want only the profile read", got)
		}
	})
}

// A batch stops at the first answer that is not 9000.
func TestAuthenticateStopsAtError(t *testing.T) {
	card := nhiCard(t, readertest.TestOne)
	card.Cert = nil // GET DATA 11 01 answers 6A88
	x := &simExchange{}
	if err := relay(t, card, x); err != nil {
		t.Fatal(err)
	}
	if len(x.answers) != 2 || !bytes.Equal(x.answers[1], []byte{0x6A, 0x88}) {
		t.Errorf("answers % X, want 9000 then 6A88 and no more", x.answers)
	}
	if got, want := card.Commands(), []byte{0xA4, 0xCA, 0xA4, 0xCA}; !bytes.Equal(got, want) {
		t.Errorf("card saw INS % X, want % X", got, want)
	}
}

func TestAuthenticateCardFailures(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(c *readertest.Card)
		want   error
	}{
		"pulled at INTERNAL AUTHENTICATE": {func(c *readertest.Card) { c.PullOn = cardsim.InsInternalAuth }, reader.ErrCardRemoved},
		"mute at INTERNAL AUTHENTICATE":   {func(c *readertest.Card) { c.MuteOn = cardsim.InsInternalAuth }, reader.ErrCardMute},
		"pulled at the profile":           {func(c *readertest.Card) { c.PullOn = 0xCA }, reader.ErrCardRemoved},
	} {
		t.Run(name, func(t *testing.T) {
			card := nhiCard(t, readertest.TestOne)
			tc.change(card)
			x := &simExchange{}
			err := relay(t, card, x)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Authenticate = %v, want %v", err, tc.want)
			}
			if x.rounds != 0 {
				t.Errorf("the far end got answers after the card failed")
			}
		})
	}
}

type failingExchange struct{ simExchange }

var errFarEnd = errors.New("far end down")

func (failingExchange) Begin(context.Context, string, string, []byte) ([][]byte, error) {
	return nil, errFarEnd
}

func TestAuthenticateFarEndFails(t *testing.T) {
	card := nhiCard(t, readertest.TestOne)
	d := readertest.NewDevice("virtual")
	if err := d.Insert(card); err != nil {
		t.Fatal(err)
	}
	if err := d.Authenticate(context.Background(), &failingExchange{}); !errors.Is(err, errFarEnd) {
		t.Errorf("Authenticate = %v, want the far end's error", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), -time.Second)
	defer cancel()
	if err := d.Authenticate(ctx, &simExchange{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Authenticate after the deadline = %v", err)
	}
}

// cardTransport is a virtual card reached directly, keeping every command
// it was sent.
type cardTransport struct {
	c   *readertest.Card
	got [][]byte
}

func (t *cardTransport) ATR() []byte { return t.c.ATR() }

func (t *cardTransport) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	t.got = append(t.got, bytes.Clone(apdu))
	return t.c.Respond(apdu)
}

// fuzzExchange hands out batches cut from the fuzzer's bytes: each
// command a length byte and as many bytes, a batch ended by a 0 length.
type fuzzExchange struct {
	in     []byte
	rounds int
}

func (x *fuzzExchange) batch() [][]byte {
	var out [][]byte
	for len(x.in) > 0 {
		n := int(x.in[0])
		x.in = x.in[1:]
		if n == 0 {
			break
		}
		n = min(n, len(x.in))
		out = append(out, x.in[:n])
		x.in = x.in[n:]
	}
	return out
}

func (x *fuzzExchange) Begin(context.Context, string, string, []byte) ([][]byte, error) {
	return x.batch(), nil
}

func (x *fuzzExchange) Continue(context.Context, [][]byte) ([][]byte, error) {
	x.rounds++
	return x.batch(), nil
}

// FuzzRelay: whatever batches the far end sends, the relay does not
// panic, sends the card nothing off the allow-list (the card would obey
// UPDATE BINARY), and relays at most MaxRelayRounds batches.
func FuzzRelay(f *testing.F) {
	f.Add([]byte{21})
	f.Add(append(append([]byte{byte(len(cardsim.SelectNHI))}, cardsim.SelectNHI...), 6, 0x00, 0xD6, 0x00, 0x00, 0x01, 0x00))
	f.Add([]byte{5, 0x00, 0xB0, 0x00, 0x00, 0x00, 0, 5, 0x00, 0xB0, 0x00, 0x00, 0x00})
	f.Add([]byte{5, 0x00, 0x84, 0x00, 0x00, 0x08, 0, 5, 0x00, 0x84, 0x00, 0x00, 0x08, 0, 5, 0x00, 0x84, 0x00, 0x00, 0x08,
		0, 5, 0x00, 0x84, 0x00, 0x00, 0x08, 0, 5, 0x00, 0x84, 0x00, 0x00, 0x08})
	genuine, err := readertest.NewCard(readertest.TestOne)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		card := &readertest.Card{Profile: genuine.Profile, Key: genuine.Key, Cert: genuine.Cert, Writable: true}
		tr := &cardTransport{c: card}
		x := &fuzzExchange{in: in}
		err := reader.Authenticate(context.Background(), tr, x)
		if len(tr.got) < 2 {
			t.Fatalf("the profile was not read: %v", err)
		}
		for _, c := range tr.got[2:] {
			if reader.CheckCommand(c) != nil && c[1] != 0xC0 { // GET RESPONSE is the relay's own
				t.Fatalf("the card got % X", c)
			}
		}
		if card.Written() != nil {
			t.Fatalf("the card was written")
		}
		if x.rounds > reader.MaxRelayRounds {
			t.Fatalf("%d rounds relayed", x.rounds)
		}
	})
}
