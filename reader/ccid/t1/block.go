// Package t1 owns the ISO/IEC 7816-3 (section 11) T=1 block transmission
// protocol between an interface device and a card: the block format (NAD,
// PCB, LEN, INF, LRC), I-, R- and S-blocks, chaining in both directions,
// IFS negotiation, waiting-time extension and error recovery (resend,
// resynchronisation).
//
// It moves bytes only. It does not know about USB or CCID (a Link carries
// the blocks) nor about what the APDUs mean.
package t1

import (
	"errors"
	"fmt"
)

// Block kinds (ISO 7816-3, 11.3.2.2).
const (
	KindI = iota // information block
	KindR        // receive-ready block (acknowledge / error)
	KindS        // supervisory block
)

// S-block types, the low five bits of the PCB (ISO 7816-3, table 13).
const (
	SResynch = 0x00
	SIFS     = 0x01
	SAbort   = 0x02
	SWTX     = 0x03
)

// R-block error codes, the low four bits of the PCB.
const (
	RNoError    = 0x00
	REDCError   = 0x01 // EDC or parity error
	ROtherError = 0x02
)

// Block limits.
const (
	MaxInf     = 254 // LEN 255 is reserved
	DefaultIFS = 32  // IFSC and IFSD before negotiation (ISO 7816-3, 11.4.2)
	header     = 3   // NAD PCB LEN
)

// Errors of block parsing. ErrEDC is recoverable by an R-block asking for
// the block again.
var (
	ErrEDC      = errors.New("t1: block EDC (LRC) mismatch")
	ErrBadBlock = errors.New("t1: malformed block")
)

// Block is one decoded T=1 block.
type Block struct {
	NAD byte
	PCB byte
	Inf []byte
}

// Kind returns KindI, KindR or KindS.
func (b Block) Kind() int {
	switch {
	case b.PCB&0x80 == 0:
		return KindI
	case b.PCB&0xC0 == 0x80:
		return KindR
	default:
		return KindS
	}
}

// Seq returns N(S) of an I-block or N(R) of an R-block, as 0 or 1.
func (b Block) Seq() byte {
	if b.Kind() == KindI {
		return b.PCB >> 6 & 1
	}
	return b.PCB >> 4 & 1
}

// More reports the M bit of an I-block: more of the chain follows.
func (b Block) More() bool { return b.Kind() == KindI && b.PCB&0x20 != 0 }

// SType returns the S-block type (SResynch, SIFS, SAbort, SWTX).
func (b Block) SType() byte { return b.PCB & 0x1F }

// IsResponse reports whether an S-block is a response (not a request).
func (b Block) IsResponse() bool { return b.PCB&0x20 != 0 }

// RError returns the error code of an R-block.
func (b Block) RError() byte { return b.PCB & 0x0F }

// IBlock builds an I-block with sequence number ns and the more bit.
func IBlock(ns byte, more bool, inf []byte) Block {
	pcb := (ns & 1) << 6
	if more {
		pcb |= 0x20
	}
	return Block{PCB: pcb, Inf: inf}
}

// RBlock builds an R-block acknowledging up to nr, with an error code.
func RBlock(nr, code byte) Block {
	return Block{PCB: 0x80 | (nr&1)<<4 | code&0x0F}
}

// SBlock builds an S-block of type typ, a response if resp.
func SBlock(typ byte, resp bool, inf []byte) Block {
	pcb := 0xC0 | typ&0x1F
	if resp {
		pcb |= 0x20
	}
	return Block{PCB: pcb, Inf: inf}
}

// LRC is the longitudinal redundancy check: the XOR of all bytes.
func LRC(b []byte) byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return x
}

// Encode returns the block on the wire, with its LRC.
func (b Block) Encode() []byte {
	out := make([]byte, 0, header+len(b.Inf)+1)
	out = append(out, b.NAD, b.PCB, byte(len(b.Inf)))
	out = append(out, b.Inf...)
	return append(out, LRC(out))
}

// Parse decodes one block with an LRC epilogue. A wrong LRC is ErrEDC; a
// block whose length does not add up, or with a reserved PCB, is
// ErrBadBlock.
func Parse(p []byte) (Block, error) {
	if len(p) < header+1 {
		return Block{}, fmt.Errorf("%w: %d bytes", ErrBadBlock, len(p))
	}
	n := int(p[2])
	if n == 0xFF || len(p) != header+n+1 {
		return Block{}, fmt.Errorf("%w: LEN %d in %d bytes", ErrBadBlock, n, len(p))
	}
	if LRC(p) != 0 {
		return Block{}, ErrEDC
	}
	b := Block{NAD: p[0], PCB: p[1], Inf: append([]byte(nil), p[header:header+n]...)}
	if err := b.check(); err != nil {
		return Block{}, err
	}
	return b, nil
}

// check rejects PCB values ISO 7816-3 reserves.
func (b Block) check() error {
	switch b.Kind() {
	case KindI:
		if b.PCB&0x1F != 0 {
			return fmt.Errorf("%w: I-block PCB %#02x", ErrBadBlock, b.PCB)
		}
	case KindR:
		if b.PCB&0x20 != 0 || len(b.Inf) != 0 {
			return fmt.Errorf("%w: R-block PCB %#02x with %d bytes", ErrBadBlock, b.PCB, len(b.Inf))
		}
	case KindS:
		switch b.SType() {
		case SResynch, SAbort:
			if len(b.Inf) != 0 {
				return fmt.Errorf("%w: S-block %#02x with data", ErrBadBlock, b.PCB)
			}
		case SIFS, SWTX:
			if len(b.Inf) != 1 {
				return fmt.Errorf("%w: S-block %#02x with %d bytes", ErrBadBlock, b.PCB, len(b.Inf))
			}
			if b.SType() == SIFS && (b.Inf[0] == 0 || b.Inf[0] == 0xFF) {
				return fmt.Errorf("%w: IFS %d", ErrBadBlock, b.Inf[0])
			}
		default:
			return fmt.Errorf("%w: S-block type %#02x", ErrBadBlock, b.PCB)
		}
	}
	return nil
}

// String describes the block for logs and test failures (never the data).
func (b Block) String() string {
	switch b.Kind() {
	case KindI:
		return fmt.Sprintf("I(%d,%t) %d bytes", b.Seq(), b.More(), len(b.Inf))
	case KindR:
		return fmt.Sprintf("R(%d) err %d", b.Seq(), b.RError())
	}
	names := map[byte]string{SResynch: "RESYNCH", SIFS: "IFS", SAbort: "ABORT", SWTX: "WTX"}
	dir := "request"
	if b.IsResponse() {
		dir = "response"
	}
	return fmt.Sprintf("S(%s %s) %x", names[b.SType()], dir, b.Inf)
}
