package reader_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream/cardsim"
)

// The relay's specification, written out from docs/reader.md and ISO
// 7816-4 apart from the package's code (CheckCommand, parseShort,
// Authenticate), so FuzzRelay judges the relay by an oracle of its own:
// a check that went missing and a check that went wrong both show.

// specAID is the NHI application's name, from the document.
var specAID = []byte{0xD1, 0x58, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00}

// specRow is one instruction of the allow-list: which P1 P2 and which
// command data it may carry.
type specRow struct {
	p1p2 func(p1, p2 byte) bool
	data func(d []byte) bool // d is nil for cases 1 and 2
}

var (
	anyP1P2 = func(byte, byte) bool { return true }
	noData  = func(d []byte) bool { return d == nil }
)

// specAllowed is the allow-list's table: class 00 only (checked apart),
// these instructions, with these conditions.
var specAllowed = map[byte]specRow{
	0xA4: { // SELECT by name (P1 04), first or only occurrence, FCI or none; the NHI AID only
		p1p2: func(p1, p2 byte) bool { return p1 == 0x04 && (p2 == 0x00 || p2 == 0x0C) },
		data: func(d []byte) bool { return bytes.Equal(d, specAID) },
	},
	0xB0: {anyP1P2, noData},                                      // READ BINARY
	0xB2: {anyP1P2, noData},                                      // READ RECORD
	0x84: {anyP1P2, noData},                                      // GET CHALLENGE
	0xCA: {anyP1P2, func(d []byte) bool { return len(d) <= 16 }}, // GET DATA
	0x88: {anyP1P2, func(d []byte) bool { return len(d) > 0 }},   // INTERNAL AUTHENTICATE
}

// specCommandData splits a short command APDU (ISO 7816-4 §5.1: case 1
// CLA INS P1 P2; case 2S + Le; case 3S + Lc data, Lc 1–255; case 4S + Lc
// data Le) and returns its data, or ok false for anything else (extended
// lengths, lengths that do not add up, over 261 bytes).
func specCommandData(apdu []byte) (data []byte, ok bool) {
	n := len(apdu)
	switch {
	case n < 4 || n > 261:
		return nil, false
	case n == 4, n == 5:
		return nil, true
	}
	lc := int(apdu[4])
	switch {
	case lc == 0:
		return nil, false // extended length
	case n == 5+lc, n == 6+lc:
		return apdu[5 : 5+lc], true
	}
	return nil, false
}

// specAllows is the oracle for one command.
func specAllows(apdu []byte) bool {
	data, ok := specCommandData(apdu)
	if !ok || apdu[0] != 0x00 {
		return false
	}
	row, ok := specAllowed[apdu[1]]
	return ok && row.p1p2(apdu[2], apdu[3]) && row.data(data)
}

// The oracle agrees with the hand-written examples both ways.
func TestSpecOracle(t *testing.T) {
	for _, bad := range readertest.DisallowedCommands() {
		if specAllows(bad.APDU) {
			t.Errorf("the oracle allows %s", bad.Name)
		}
	}
	ia := append([]byte{0x00, 0x88, 0x00, 0x00, 0x20}, make([]byte, 32)...)
	for _, good := range [][]byte{cardsim.SelectNHI, cardsim.GetCertificate, cardsim.InternalAuthenticate(make([]byte, 32)),
		reader.SelectNHI, reader.ReadProfileCmd, ia, {0x00, 0xB0, 0x81, 0x00, 0x00}, {0x00, 0x84, 0x00, 0x00, 0x08}} {
		if !specAllows(good) {
			t.Errorf("the oracle refuses % X", good)
		}
	}
}

// relayModel is what the relay must do with batches, worked out from the
// specification with a twin of the card: the commands the card gets, in
// order, and whether the exchange ends refused.
type relayModel struct {
	sent    [][]byte
	refused bool
	rounds  int // answers returned to the far end
}

// model runs batches (the far end's, in order; the exchange ends at the
// first empty one) against twin, a card in the state the real one is in
// after the profile read.
func model(batches [][][]byte, twin *readertest.Card) (relayModel, error) {
	var m relayModel
	for r, batch := range batches {
		if len(batch) == 0 {
			return m, nil
		}
		if r+1 > 4 || len(batch) > 8 { // MaxRelayRounds, MaxRelayBatch, from the document
			m.refused = true
			return m, nil
		}
		for _, c := range batch {
			if !specAllows(c) {
				m.refused = true
				return m, nil
			}
		}
		for _, c := range batch {
			m.sent = append(m.sent, c)
			resp, err := twin.Respond(c)
			if err != nil || len(resp) < 2 {
				return m, fmt.Errorf("the twin card answered % X, %v", resp, err)
			}
			sw1 := resp[len(resp)-2]
			if sw1 == 0x61 || sw1 == 0x6C {
				return m, fmt.Errorf("the twin card answered %02X: the model does not follow it", sw1)
			}
			if len(resp)-2 > 256 { // MaxRelayResponse
				m.refused = true
				return m, nil
			}
			if !bytes.Equal(resp[len(resp)-2:], []byte{0x90, 0x00}) {
				break // the batch stops at the first status other than 9000
			}
		}
		m.rounds++
	}
	return m, nil
}

// cutBatches cuts the fuzzer's bytes into batches as fuzzExchange hands
// them out: each command a length byte and as many bytes, a batch ended
// by a 0 length; then empty batches.
func cutBatches(in []byte) [][][]byte {
	x := &fuzzExchange{in: in}
	var out [][][]byte
	for range 6 {
		out = append(out, x.batch())
	}
	return out
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
		out = append(out, bytes.Clone(x.in[:n]))
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

// FuzzRelay: whatever batches the far end sends, the relay does exactly
// what the specification's model does with a twin of the card: the same
// commands reach the card in the same order (none off the allow-list, a
// refused batch not at all, a batch stopped at its first error status),
// it ends refused exactly when the model does, and it returns as many
// rounds of answers. The card would obey UPDATE BINARY and is never
// written.
func FuzzRelay(f *testing.F) {
	f.Add([]byte{21})
	f.Add(append(append([]byte{byte(len(cardsim.SelectNHI))}, cardsim.SelectNHI...), 6, 0x00, 0xD6, 0x00, 0x00, 0x01, 0x00))
	f.Add([]byte{5, 0x00, 0xB0, 0x00, 0x00, 0x00, 0, 5, 0x00, 0xB0, 0x00, 0x00, 0x00})
	f.Add([]byte{5, 0x00, 0x84, 0x00, 0x00, 0x08, 0, 5, 0x00, 0x84, 0x00, 0x00, 0x08, 0, 5, 0x00, 0x84, 0x00, 0x00, 0x08,
		0, 5, 0x00, 0x84, 0x00, 0x00, 0x08, 0, 5, 0x00, 0x84, 0x00, 0x00, 0x08})
	sim := append([]byte{byte(len(cardsim.SelectNHI))}, cardsim.SelectNHI...)
	sim = append(append(sim, byte(len(cardsim.GetCertificate))), cardsim.GetCertificate...)
	ia := cardsim.InternalAuthenticate(make([]byte, 32))
	f.Add(append(append(sim, byte(len(ia))), ia...))
	for _, bad := range readertest.DisallowedCommands() {
		if len(bad.APDU) < 256 {
			f.Add(append(append(bytes.Clone(sim), byte(len(bad.APDU))), bad.APDU...))
		}
	}
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
		twin := &readertest.Card{Profile: genuine.Profile, Key: genuine.Key, Cert: genuine.Cert, Writable: true}
		for _, c := range tr.got[:2] {
			twin.Respond(c)
		}
		want, merr := model(cutBatches(in), twin)
		if merr != nil {
			t.Skip(merr)
		}
		got := tr.got[2:]
		if len(got) != len(want.sent) {
			t.Fatalf("the card got %d commands, the model %d:\n got % X\nwant % X", len(got), len(want.sent), got, want.sent)
		}
		for i := range got {
			if !bytes.Equal(got[i], want.sent[i]) {
				t.Fatalf("command %d: the card got % X, the model sends % X", i+1, got[i], want.sent[i])
			}
		}
		if refused := errors.Is(err, reader.ErrRelayRefused); refused != want.refused {
			t.Fatalf("Authenticate = %v; the model refuses: %v", err, want.refused)
		}
		if !want.refused && err != nil {
			t.Fatalf("Authenticate = %v, want nil", err)
		}
		if x.rounds != want.rounds {
			t.Fatalf("%d rounds of answers, the model %d", x.rounds, want.rounds)
		}
		if card.Written() != nil {
			t.Fatalf("the card was written")
		}
	})
}
