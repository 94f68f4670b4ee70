package reader_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
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
	insert  []byte   // put into the first batch at index at
	at      int
	more    bool   // ask for another batch every round, forever
	begun   string // card and ID numbers Begin was given
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
	if x.insert != nil {
		cmds = slices.Insert(cmds, x.at, x.insert)
	}
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

// A batch with one command off the allow-list is refused whole, wherever
// the command stands in it: the card, which would have obeyed, never sees
// any of it. Every kind the allow-list refuses (readertest's table,
// written apart from CheckCommand), in every position of the module's
// batch.
func TestAuthenticateRefusesDisallowed(t *testing.T) {
	for _, bad := range readertest.DisallowedCommands() {
		for pos := 0; pos <= 3; pos++ {
			t.Run(fmt.Sprintf("%s/position %d", bad.Name, pos+1), func(t *testing.T) {
				card := nhiCard(t, readertest.TestOne)
				card.Writable = true
				x := &simExchange{insert: bad.APDU, at: pos}
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

// stallingExchange is a far end that stalls in Continue until its ctx
// ends, saying when it started waiting.
type stallingExchange struct {
	simExchange
	waiting chan struct{}
}

func (x *stallingExchange) Continue(ctx context.Context, _ [][]byte) ([][]byte, error) {
	close(x.waiting)
	<-ctx.Done()
	return nil, ctx.Err()
}

// The card pulled, or the reader unplugged, while the far end stalls ends
// the exchange at once with the reader's error, not the far end's
// (readertest.Device's transport is a CardWatcher).
func TestAuthenticatePulledWhileWaiting(t *testing.T) {
	for name, tc := range map[string]struct {
		pull func(d *readertest.Device)
		want error
	}{
		"card pulled":      {(*readertest.Device).Remove, reader.ErrCardRemoved},
		"reader unplugged": {(*readertest.Device).Detach, reader.ErrReaderUnplugged},
	} {
		t.Run(name, func(t *testing.T) {
			d := readertest.NewDevice("virtual")
			if err := d.Insert(nhiCard(t, readertest.TestOne)); err != nil {
				t.Fatal(err)
			}
			x := &stallingExchange{waiting: make(chan struct{})}
			res := make(chan error, 1)
			go func() { res <- d.Authenticate(context.Background(), x) }()
			<-x.waiting
			tc.pull(d)
			err := <-res
			if !errors.Is(err, tc.want) || errors.Is(err, context.Canceled) {
				t.Errorf("Authenticate = %v, want %v", err, tc.want)
			}
		})
	}
}
