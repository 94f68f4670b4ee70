package ccidtest

import "github.com/nhikiosk/nhikiosk/reader/ccid/t1"

// T1Card is the card's side of T=1 (ISO 7816-3, 11) in front of a Card,
// enough to answer an interface device that follows the standard. Its zero
// value is not usable; start from NewT1Card.
type T1Card struct {
	card Card
	t    cardT1
}

// NewT1Card returns the T=1 card end for card, as after an ATR announcing
// IFSC 254.
func NewT1Card(card Card) *T1Card { return &T1Card{card: card, t: newCardT1()} }

// Receive takes one block from the interface device and returns the
// card's answer block.
func (c *T1Card) Receive(block []byte) []byte { return c.t.receive(block, c.card, &Faults{}) }

// cardT1 is the card's side of T=1 with fault injection.
type cardT1 struct {
	nr, ns  byte // next N(S) expected from the host; next N(S) we send
	ifsd    int
	rx      []byte   // command chain so far
	tx      []byte   // response not yet sent
	last    t1.Block // last block sent, for retransmission
	pending bool     // an answer waits for S(WTX response)
}

// ifsc is the card's IFSC as the NHI ATR announces it.
const ifsc = 254

func (c *cardT1) receive(raw []byte, card Card, f *Faults) []byte {
	b, err := t1.Parse(raw)
	if err != nil {
		return c.refuse(t1.REDCError)
	}
	switch b.Kind() {
	case t1.KindI:
		if b.Seq() != c.nr || len(b.Inf) > ifsc {
			return c.refuse(t1.ROtherError)
		}
		c.nr ^= 1
		c.rx = append(c.rx, b.Inf...)
		if b.More() {
			return c.sent(t1.RBlock(c.nr, t1.RNoError))
		}
		c.tx, c.rx = card(c.rx), nil
		if f.WTX > 1 {
			c.pending = true
			return t1.SBlock(t1.SWTX, false, []byte{f.WTX}).Encode()
		}
		return c.nextI()
	case t1.KindR:
		switch {
		case c.last.Kind() == t1.KindI && c.last.More() && b.Seq() != c.last.Seq():
			return c.nextI() // our chained block is acknowledged
		case c.last.Kind() == t1.KindI && b.Seq() == c.last.Seq():
			return c.last.Encode() // asked for our last I-block again
		case c.last.Kind() == t1.KindR:
			return c.last.Encode() // our acknowledgement was lost
		}
		// The host's I-block never reached us: ask for it.
		return c.refuse(t1.RNoError)
	}
	switch {
	case b.SType() == t1.SIFS && !b.IsResponse():
		c.ifsd = int(b.Inf[0])
		return t1.SBlock(t1.SIFS, true, b.Inf).Encode()
	case b.SType() == t1.SResynch && !b.IsResponse():
		*c = newCardT1()
		return t1.SBlock(t1.SResynch, true, nil).Encode()
	case b.SType() == t1.SWTX && b.IsResponse() && c.pending:
		c.pending = false
		return c.nextI()
	}
	return c.refuse(t1.ROtherError)
}

func newCardT1() cardT1 {
	return cardT1{ifsd: t1.DefaultIFS, last: t1.RBlock(0, t1.RNoError)}
}

// nextI sends the next piece of the response chain.
func (c *cardT1) nextI() []byte {
	n := min(c.ifsd, len(c.tx))
	b := t1.IBlock(c.ns, n < len(c.tx), c.tx[:n])
	c.tx = c.tx[n:]
	c.ns ^= 1
	return c.sent(b)
}

// sent records b as the block to send again if the host asks.
func (c *cardT1) sent(b t1.Block) []byte {
	c.last = b
	return b.Encode()
}

// refuse answers a block the card could not take with an R-block; the
// block to send again stays what it was.
func (c *cardT1) refuse(code byte) []byte {
	return t1.RBlock(c.nr, code).Encode()
}
