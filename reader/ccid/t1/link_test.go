package t1

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// step is one scripted exchange: the block the interface device must send,
// and what the card (through the link) answers.
type step struct {
	want  Block  // expected block from the conn
	wtx   byte   // expected BWT multiplier
	reply []byte // raw answer, or nil with err
	err   error
}

// scriptLink plays a hand-built exchange and fails the test on any
// deviation.
type scriptLink struct {
	t     *testing.T
	steps []step
	n     int
}

func (l *scriptLink) Exchange(_ context.Context, block []byte, wtx byte) ([]byte, error) {
	l.t.Helper()
	if l.n >= len(l.steps) {
		l.t.Fatalf("exchange %d: unexpected block %x after the script ended", l.n, block)
	}
	s := l.steps[l.n]
	l.n++
	if got, want := block, s.want.Encode(); !bytes.Equal(got, want) {
		l.t.Fatalf("exchange %d: sent %x, want %x (%v)", l.n-1, got, want, s.want)
	}
	if wtx != s.wtx {
		l.t.Fatalf("exchange %d: wtx %d, want %d", l.n-1, wtx, s.wtx)
	}
	return s.reply, s.err
}

func (l *scriptLink) done() {
	l.t.Helper()
	if l.n != len(l.steps) {
		l.t.Errorf("script stopped after %d of %d exchanges", l.n, len(l.steps))
	}
}

// h decodes spaced hex.
func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(fmt.Sprintf("bad hex %q: %v", s, err))
	}
	return b
}

func reply(b Block) []byte { return b.Encode() }

// corrupt returns the block with its LRC broken, as after a line error.
func corrupt(b Block) []byte {
	p := b.Encode()
	p[len(p)-1] ^= 0x55
	return p
}
