package t1

import (
	"context"
	"errors"
	"fmt"
)

// Link carries blocks between the interface device and the card: a CCID
// reader at TPDU level, or anything else that can move bytes to a card.
//
// Exchange sends one encoded block and returns the next block the card
// sends, raw. wtx, when above 1, multiplies the block waiting time for this
// exchange only (the card asked for it with S(WTX)). Exchange blocks until
// the card answers, the block waiting time ends or ctx ends. It returns an
// error wrapping ErrTimeout when the card sent nothing in time and ErrEDC
// when the reader saw a parity error; the protocol recovers from both. Any
// other error (card removed, reader gone, ctx) ends the exchange and is
// returned wrapped. Links need not be safe for concurrent use.
type Link interface {
	Exchange(ctx context.Context, block []byte, wtx byte) ([]byte, error)
}

// Errors of the protocol.
var (
	// ErrTimeout is what a Link returns when the card stayed silent for the
	// block waiting time.
	ErrTimeout = errors.New("t1: card sent no block in time")
	// ErrProtocol means recovery failed: retransmissions and
	// resynchronisation did not bring back a working exchange. The APDU is
	// lost; the caller should reset the card.
	ErrProtocol = errors.New("t1: protocol failure")
	// ErrAborted means the card aborted the chain (S(ABORT)).
	ErrAborted = errors.New("t1: card aborted the exchange")
)

// MaxRetries is how many times a block is sent again, or a broken block
// asked for again, before the conn resynchronises (ISO 7816-3, 11.6.3.2
// allows up to three).
const MaxRetries = 3

// Conn is the interface device's end of one T=1 session with one card.
// It is not safe for concurrent use.
type Conn struct {
	link   Link
	ns, nr byte // next N(S) we send; next N(S) we expect from the card
	ifsc   int  // the card's maximum information field
	ifsd   int  // ours, as negotiated
}

// New starts a T=1 session over link with the card's IFSC from its ATR (TA
// of the first T=1 interface bytes; 0 means the default 32).
func New(link Link, ifsc int) *Conn {
	if ifsc <= 0 || ifsc > MaxInf {
		ifsc = DefaultIFS
	}
	return &Conn{link: link, ifsc: ifsc, ifsd: DefaultIFS}
}

// IFSC returns the card's current maximum information field size.
func (c *Conn) IFSC() int { return c.ifsc }

// IFSD returns the interface device's negotiated information field size.
func (c *Conn) IFSD() int { return c.ifsd }

// NegotiateIFSD tells the card the largest information field we accept
// (S(IFS request), ISO 7816-3, 11.4.2), so long responses need fewer
// blocks. It is done once after the ATR.
func (c *Conn) NegotiateIFSD(ctx context.Context, ifsd int) error {
	if ifsd < 1 || ifsd > MaxInf {
		return fmt.Errorf("t1: IFSD %d out of range", ifsd)
	}
	b, err := c.request(ctx, SBlock(SIFS, false, []byte{byte(ifsd)}))
	if err != nil {
		return fmt.Errorf("t1: negotiate IFSD: %w", err)
	}
	if b.Kind() != KindS || b.SType() != SIFS || !b.IsResponse() || b.Inf[0] != byte(ifsd) {
		return fmt.Errorf("t1: negotiate IFSD: card answered %v: %w", b, ErrProtocol)
	}
	c.ifsd = ifsd
	return nil
}

// request sends an S-block request and returns the card's answer, sending
// the request again on transmission errors.
func (c *Conn) request(ctx context.Context, req Block) (Block, error) {
	var last error
	for range MaxRetries + 1 {
		raw, err := c.link.Exchange(ctx, req.Encode(), 0)
		if err == nil {
			var b Block
			if b, err = Parse(raw); err == nil {
				return b, nil
			}
		}
		if !retryable(err) {
			return Block{}, err
		}
		last = err
	}
	return Block{}, fmt.Errorf("%w: %w", ErrProtocol, last)
}

// Resynch resets the block sequence numbers and information field sizes
// with S(RESYNCH) (ISO 7816-3, 11.6.3.2, rule 6.4) and negotiates IFSD
// again.
func (c *Conn) Resynch(ctx context.Context) error {
	b, err := c.request(ctx, SBlock(SResynch, false, nil))
	if err != nil {
		return fmt.Errorf("t1: resynch: %w", err)
	}
	if b.Kind() != KindS || b.SType() != SResynch || !b.IsResponse() {
		return fmt.Errorf("t1: resynch: card answered %v: %w", b, ErrProtocol)
	}
	c.ns, c.nr, c.ifsc = 0, 0, DefaultIFS
	if ifsd := c.ifsd; ifsd != DefaultIFS {
		c.ifsd = DefaultIFS
		return c.NegotiateIFSD(ctx, ifsd)
	}
	return nil
}

func retryable(err error) bool {
	return errors.Is(err, ErrTimeout) || errors.Is(err, ErrEDC) || errors.Is(err, ErrBadBlock)
}
