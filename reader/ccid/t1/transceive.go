package t1

import (
	"context"
	"errors"
	"fmt"
)

// exchange is the state of one APDU exchange: our chain going out, then
// the card's chain coming back.
type exchange struct {
	c       *Conn
	apdu    []byte
	off     int   // bytes of apdu in blocks the card acknowledged
	sending bool  // our last I-block is not acknowledged yet
	last    Block // the last I- or R-block we sent, for retransmission
	send    Block // what goes out next
	wtx     byte  // BWT multiplier for the next exchange
	errs    int   // consecutive failed attempts
	resp    []byte
}

// Transceive sends one command APDU, chained over as many I-blocks as the
// card's IFSC needs, and returns the response APDU reassembled from the
// card's chain. It answers the card's S(WTX) and S(IFS) requests, asks for
// broken blocks again, sends blocks again when the card asks, and after
// MaxRetries failures resynchronises and returns an error wrapping
// ErrProtocol. Errors of the link other than timeouts and EDC errors (the
// card was removed, the reader is gone, ctx ended) are returned at once.
func (c *Conn) Transceive(ctx context.Context, apdu []byte) ([]byte, error) {
	if len(apdu) == 0 {
		return nil, errors.New("t1: empty APDU")
	}
	x := &exchange{c: c, apdu: apdu, sending: true}
	x.last = x.nextI()
	x.send = x.last
	for {
		raw, err := c.link.Exchange(ctx, x.send.Encode(), x.wtx)
		x.wtx = 0
		var b Block
		if err == nil {
			b, err = Parse(raw)
		}
		if err != nil {
			if !retryable(err) {
				return nil, fmt.Errorf("t1: exchange: %w", err)
			}
			code := byte(ROtherError)
			if errors.Is(err, ErrEDC) {
				code = REDCError
			}
			if err := x.fail(ctx, err, RBlock(c.nr, code)); err != nil {
				return nil, err
			}
			continue
		}
		done, err := x.handle(ctx, b)
		if err != nil {
			return nil, err
		}
		if done {
			return x.resp, nil
		}
	}
}

// nextI builds the next I-block of our chain from the unacknowledged rest.
func (x *exchange) nextI() Block {
	n := min(x.c.ifsc, len(x.apdu)-x.off)
	more := x.off+n < len(x.apdu)
	return IBlock(x.c.ns, more, x.apdu[x.off:x.off+n])
}

// fail counts a failed attempt and sends next, or resynchronises once
// MaxRetries attempts have failed.
func (x *exchange) fail(ctx context.Context, cause error, next Block) error {
	x.errs++
	if x.errs > MaxRetries {
		if err := x.c.Resynch(ctx); err != nil {
			return fmt.Errorf("%w after %d errors (last: %w); %w", ErrProtocol, x.errs, cause, err)
		}
		return fmt.Errorf("%w after %d errors, resynchronised (last: %w)", ErrProtocol, x.errs, cause)
	}
	x.send = next
	return nil
}

// handle acts on one valid block from the card. It reports done when the
// response is complete.
func (x *exchange) handle(ctx context.Context, b Block) (bool, error) {
	c := x.c
	switch b.Kind() {
	case KindI:
		if x.sending && x.last.More() || b.Seq() != c.nr {
			return false, x.fail(ctx, fmt.Errorf("%w: unexpected %v", ErrBadBlock, b), RBlock(c.nr, ROtherError))
		}
		if x.sending {
			x.sending = false // the card's I-block acknowledges our last one
			c.ns ^= 1
		}
		c.nr ^= 1
		x.errs = 0
		x.resp = append(x.resp, b.Inf...)
		if !b.More() {
			return true, nil
		}
		x.last = RBlock(c.nr, RNoError)
		x.send = x.last
	case KindR:
		if x.sending && x.last.More() && b.Seq() != c.ns {
			c.ns ^= 1 // our chained block is acknowledged
			x.off += len(x.last.Inf)
			x.errs = 0
			x.last = x.nextI()
			x.send = x.last
			return false, nil
		}
		if x.sending && b.Seq() != c.ns {
			return false, x.fail(ctx, fmt.Errorf("%w: unexpected %v", ErrBadBlock, b), RBlock(c.nr, ROtherError))
		}
		// The card asks for our last block again.
		return false, x.fail(ctx, fmt.Errorf("card asked for a retransmission: %v", b), x.last)
	case KindS:
		return x.supervise(ctx, b)
	}
	return false, nil
}

// supervise answers the card's S-block requests.
func (x *exchange) supervise(ctx context.Context, b Block) (bool, error) {
	if b.IsResponse() || b.SType() == SResynch {
		return false, x.fail(ctx, fmt.Errorf("%w: unexpected %v", ErrBadBlock, b), RBlock(x.c.nr, ROtherError))
	}
	switch b.SType() {
	case SWTX:
		x.wtx = b.Inf[0]
		x.send = SBlock(SWTX, true, b.Inf)
	case SIFS:
		x.c.ifsc = int(b.Inf[0])
		x.send = SBlock(SIFS, true, b.Inf)
	case SAbort:
		// Acknowledge and give up on this APDU; what the card sends after
		// the acknowledgement is not part of this exchange.
		_, _ = x.c.link.Exchange(ctx, SBlock(SAbort, true, nil).Encode(), 0)
		return true, ErrAborted
	}
	return false, nil
}
