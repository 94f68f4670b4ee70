package ccid

import (
	"errors"
	"fmt"
)

// ErrATR means the card's answer to reset is malformed.
var ErrATR = errors.New("ccid: malformed ATR")

// ATR is what the transport needs from a card's answer to reset (ISO
// 7816-3, section 8).
type ATR struct {
	Raw     []byte
	Inverse bool // TS 3F: inverse convention
	TA1     byte // Fi/Di, 0x11 when absent
	TC1     byte // extra guard time
	T0, T1  bool // protocols the card offers (T=0 when none is named)
	IFSC    int  // first TA for T=1, 32 when absent
	BWICWI  byte // first TB for T=1, 0x4D when absent
	CRC     bool // first TC for T=1 bit 0: CRC instead of LRC

	t1Seen bool
}

// ParseATR decodes an ATR and checks its TCK.
func ParseATR(raw []byte) (ATR, error) {
	a := ATR{Raw: append([]byte(nil), raw...), TA1: 0x11, IFSC: 32, BWICWI: 0x4D}
	if len(raw) < 2 || len(raw) > 33 {
		return ATR{}, fmt.Errorf("%w: %d bytes", ErrATR, len(raw))
	}
	switch raw[0] {
	case 0x3B:
	case 0x3F:
		a.Inverse = true
	default:
		return ATR{}, fmt.Errorf("%w: TS %#02x", ErrATR, raw[0])
	}
	i, y, hist := 2, raw[1]>>4, int(raw[1]&0x0F)
	proto, next := 0, 1 // protocol of the current group; interface group number
	needTCK := false
	for {
		var ta, tb, tc, td byte
		for bit, dst := range []*byte{&ta, &tb, &tc, &td} {
			if y&(1<<bit) == 0 {
				continue
			}
			if i >= len(raw) {
				return ATR{}, fmt.Errorf("%w: truncated interface bytes", ErrATR)
			}
			*dst = raw[i]
			i++
		}
		a.group(next, proto, y, ta, tb, tc)
		if y&8 == 0 {
			break
		}
		proto, y, next = int(td&0x0F), td>>4, next+1
		switch proto {
		case 0:
			a.T0 = true
		case 1:
			a.T1 = true
		}
		if proto != 0 {
			needTCK = true
		}
	}
	if !a.T0 && !a.T1 && next == 1 {
		a.T0 = true
	}
	if needTCK {
		hist++
	}
	if len(raw) != i+hist {
		return ATR{}, fmt.Errorf("%w: %d bytes, interface and historical bytes need %d", ErrATR, len(raw), i+hist)
	}
	if needTCK && LRC(raw[1:]) != 0 {
		return ATR{}, fmt.Errorf("%w: TCK mismatch", ErrATR)
	}
	return a, nil
}

// group records the interface bytes of group n (protocol proto) that the
// transport uses: TA1, TC1 globally, and the first T=1 group after TD2.
func (a *ATR) group(n, proto int, y, ta, tb, tc byte) {
	if n == 1 {
		if y&1 != 0 {
			a.TA1 = ta
		}
		if y&4 != 0 {
			a.TC1 = tc
		}
		return
	}
	if proto != 1 || n < 3 || a.t1Seen {
		return
	}
	a.t1Seen = true
	if y&1 != 0 && ta != 0 && ta != 0xFF {
		a.IFSC = int(ta)
	}
	if y&2 != 0 {
		a.BWICWI = tb
	}
	if y&4 != 0 {
		a.CRC = tc&1 != 0
	}
}

// LRC is the XOR of all bytes.
func LRC(b []byte) byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return x
}

// t1Params returns the abProtocolDataStructure of PC_to_RDR_SetParameters
// for T=1 (CCID 6.1.7, table 6.1-9).
func (a ATR) t1Params() []byte {
	tcck := byte(0x10)
	if a.CRC {
		tcck |= 1
	}
	if a.Inverse {
		tcck |= 2
	}
	return []byte{a.TA1, tcck, a.TC1, a.BWICWI, 0x00, byte(a.IFSC), 0x00}
}
