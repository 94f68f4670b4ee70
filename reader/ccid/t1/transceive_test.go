package t1

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

var (
	selectNHI   = h("00 A4 04 00 10 D1 58 00 00 01 00 00 00 00 00 00 00 00 00 11 00")
	readProfile = h("00 CA 11 00 02 00 00")
	sw9000      = h("90 00")
	errRemoved  = errors.New("card removed")
)

// profile is a made-up 57-byte profile for TEST ONE (no real person).
func profileResp() []byte {
	p := bytes.Repeat([]byte{0x30}, 57)
	copy(p, "000012345678")
	copy(p[12:], "TEST ONE")
	return append(p, 0x90, 0x00)
}

func TestTransceive(t *testing.T) {
	long := bytes.Repeat([]byte{0xAB}, 40)
	for _, tc := range []struct {
		name  string
		ifsc  int
		apdus [][]byte
		want  [][]byte
		steps []step
	}{{
		name: "select then read profile", ifsc: 254,
		apdus: [][]byte{selectNHI, readProfile}, want: [][]byte{sw9000, profileResp()},
		steps: []step{
			{want: IBlock(0, false, selectNHI), reply: reply(IBlock(0, false, sw9000))},
			{want: IBlock(1, false, readProfile), reply: reply(IBlock(1, false, profileResp()))},
		},
	}, {
		name: "command chaining at IFSC 16", ifsc: 16,
		apdus: [][]byte{selectNHI}, want: [][]byte{sw9000},
		steps: []step{
			{want: IBlock(0, true, selectNHI[:16]), reply: reply(RBlock(1, RNoError))},
			{want: IBlock(1, false, selectNHI[16:]), reply: reply(IBlock(0, false, sw9000))},
		},
	}, {
		name: "response chaining", ifsc: 254,
		apdus: [][]byte{readProfile, selectNHI}, want: [][]byte{profileResp(), sw9000},
		steps: []step{
			{want: IBlock(0, false, readProfile), reply: reply(IBlock(0, true, profileResp()[:32]))},
			{want: RBlock(1, RNoError), reply: reply(IBlock(1, false, profileResp()[32:]))},
			{want: IBlock(1, false, selectNHI), reply: reply(IBlock(0, false, sw9000))},
		},
	}, {
		name: "waiting time extension", ifsc: 254,
		apdus: [][]byte{readProfile}, want: [][]byte{profileResp()},
		steps: []step{
			{want: IBlock(0, false, readProfile), reply: reply(SBlock(SWTX, false, []byte{3}))},
			{want: SBlock(SWTX, true, []byte{3}), wtx: 3, reply: reply(IBlock(0, false, profileResp()))},
		},
	}, {
		name: "card changes IFSC during our chain", ifsc: 16,
		apdus: [][]byte{long}, want: [][]byte{sw9000},
		steps: []step{
			{want: IBlock(0, true, long[:16]), reply: reply(SBlock(SIFS, false, []byte{8}))},
			{want: SBlock(SIFS, true, []byte{8}), reply: reply(RBlock(1, RNoError))},
			{want: IBlock(1, true, long[16:24]), reply: reply(RBlock(0, RNoError))},
			{want: IBlock(0, true, long[24:32]), reply: reply(RBlock(1, RNoError))},
			{want: IBlock(1, false, long[32:]), reply: reply(IBlock(0, false, sw9000))},
		},
	}, {
		name: "EDC error then resend", ifsc: 254,
		apdus: [][]byte{selectNHI}, want: [][]byte{sw9000},
		steps: []step{
			{want: IBlock(0, false, selectNHI), reply: corrupt(IBlock(0, false, sw9000))},
			{want: RBlock(0, REDCError), reply: reply(IBlock(0, false, sw9000))},
		},
	}, {
		name: "parity error reported by the reader", ifsc: 254,
		apdus: [][]byte{selectNHI}, want: [][]byte{sw9000},
		steps: []step{
			{want: IBlock(0, false, selectNHI), err: ErrEDC},
			{want: RBlock(0, REDCError), reply: reply(IBlock(0, false, sw9000))},
		},
	}, {
		name: "card NAKs our block", ifsc: 254,
		apdus: [][]byte{selectNHI}, want: [][]byte{sw9000},
		steps: []step{
			{want: IBlock(0, false, selectNHI), reply: reply(RBlock(0, REDCError))},
			{want: IBlock(0, false, selectNHI), reply: reply(IBlock(0, false, sw9000))},
		},
	}, {
		name: "card silent once", ifsc: 254,
		apdus: [][]byte{selectNHI}, want: [][]byte{sw9000},
		steps: []step{
			{want: IBlock(0, false, selectNHI), err: ErrTimeout},
			{want: RBlock(0, ROtherError), reply: reply(RBlock(0, ROtherError))},
			{want: IBlock(0, false, selectNHI), reply: reply(IBlock(0, false, sw9000))},
		},
	}, {
		name: "broken block during response chain", ifsc: 254,
		apdus: [][]byte{readProfile}, want: [][]byte{profileResp()},
		steps: []step{
			{want: IBlock(0, false, readProfile), reply: reply(IBlock(0, true, profileResp()[:32]))},
			{want: RBlock(1, RNoError), reply: corrupt(IBlock(1, false, profileResp()[32:]))},
			{want: RBlock(1, REDCError), reply: reply(IBlock(1, false, profileResp()[32:]))},
		},
	}, {
		name: "our R-block lost during response chain", ifsc: 254,
		apdus: [][]byte{readProfile}, want: [][]byte{profileResp()},
		steps: []step{
			{want: IBlock(0, false, readProfile), reply: reply(IBlock(0, true, profileResp()[:32]))},
			{want: RBlock(1, RNoError), reply: reply(RBlock(1, REDCError))},
			{want: RBlock(1, RNoError), reply: reply(IBlock(1, false, profileResp()[32:]))},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			l := &scriptLink{t: t, steps: tc.steps}
			c := New(l, tc.ifsc)
			for i, apdu := range tc.apdus {
				got, err := c.Transceive(context.Background(), apdu)
				if err != nil {
					t.Fatalf("Transceive #%d: %v", i, err)
				}
				if !bytes.Equal(got, tc.want[i]) {
					t.Errorf("Transceive #%d = % X, want % X", i, got, tc.want[i])
				}
			}
			l.done()
		})
	}
}

func TestTransceiveErrors(t *testing.T) {
	sel := IBlock(0, false, selectNHI)
	for _, tc := range []struct {
		name  string
		ifsc  int
		steps []step
		want  error
	}{{
		name: "card removed mid-chain", ifsc: 16,
		steps: []step{
			{want: IBlock(0, true, selectNHI[:16]), reply: reply(RBlock(1, RNoError))},
			{want: IBlock(1, false, selectNHI[16:]), err: errRemoved},
		},
		want: errRemoved,
	}, {
		name: "mute card: retries, resynch fails", ifsc: 254,
		steps: []step{
			{want: sel, err: ErrTimeout},
			{want: RBlock(0, ROtherError), err: ErrTimeout},
			{want: RBlock(0, ROtherError), err: ErrTimeout},
			{want: RBlock(0, ROtherError), err: ErrTimeout},
			{want: SBlock(SResynch, false, nil), err: ErrTimeout},
			{want: SBlock(SResynch, false, nil), err: ErrTimeout},
			{want: SBlock(SResynch, false, nil), err: ErrTimeout},
			{want: SBlock(SResynch, false, nil), err: ErrTimeout},
		},
		want: ErrProtocol,
	}, {
		name: "garbled line: resynchronised", ifsc: 254,
		steps: []step{
			{want: sel, reply: corrupt(IBlock(0, false, sw9000))},
			{want: RBlock(0, REDCError), reply: corrupt(IBlock(0, false, sw9000))},
			{want: RBlock(0, REDCError), reply: corrupt(IBlock(0, false, sw9000))},
			{want: RBlock(0, REDCError), reply: corrupt(IBlock(0, false, sw9000))},
			{want: SBlock(SResynch, false, nil), reply: reply(SBlock(SResynch, true, nil))},
		},
		want: ErrEDC,
	}, {
		name: "card keeps NAKing", ifsc: 254,
		steps: []step{
			{want: sel, reply: reply(RBlock(0, REDCError))},
			{want: sel, reply: reply(RBlock(0, REDCError))},
			{want: sel, reply: reply(RBlock(0, REDCError))},
			{want: sel, reply: reply(RBlock(0, REDCError))},
			{want: SBlock(SResynch, false, nil), reply: reply(SBlock(SResynch, true, nil))},
		},
		want: ErrProtocol,
	}, {
		name: "card aborts", ifsc: 254,
		steps: []step{
			{want: sel, reply: reply(SBlock(SAbort, false, nil))},
			{want: SBlock(SAbort, true, nil), reply: reply(IBlock(0, false, sw9000))},
		},
		want: ErrAborted,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			l := &scriptLink{t: t, steps: tc.steps}
			c := New(l, tc.ifsc)
			got, err := c.Transceive(context.Background(), selectNHI)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Transceive = % X, %v; want error %v", got, err, tc.want)
			}
			if got != nil {
				t.Errorf("Transceive returned % X with error %v", got, err)
			}
			l.done()
		})
	}
}

func TestResynchResets(t *testing.T) {
	l := &scriptLink{t: t, steps: []step{
		{want: SBlock(SIFS, false, []byte{254}), reply: reply(SBlock(SIFS, true, []byte{254}))},
		{want: IBlock(0, false, selectNHI), reply: reply(IBlock(0, false, sw9000))},
		{want: IBlock(1, false, selectNHI), reply: corrupt(IBlock(1, false, sw9000))},
		{want: RBlock(1, REDCError), reply: corrupt(IBlock(1, false, sw9000))},
		{want: RBlock(1, REDCError), reply: corrupt(IBlock(1, false, sw9000))},
		{want: RBlock(1, REDCError), reply: corrupt(IBlock(1, false, sw9000))},
		{want: SBlock(SResynch, false, nil), reply: reply(SBlock(SResynch, true, nil))},
		{want: SBlock(SIFS, false, []byte{254}), reply: reply(SBlock(SIFS, true, []byte{254}))},
		// After resynchronisation both sequence numbers start at 0 again.
		{want: IBlock(0, false, selectNHI), reply: reply(IBlock(0, false, sw9000))},
	}}
	c := New(l, 254)
	ctx := context.Background()
	if err := c.NegotiateIFSD(ctx, 254); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Transceive(ctx, selectNHI); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Transceive(ctx, selectNHI); !errors.Is(err, ErrProtocol) {
		t.Fatalf("Transceive on a garbled line: %v, want ErrProtocol", err)
	}
	if got, want := c.IFSD(), 254; got != want {
		t.Errorf("IFSD after resynch = %d, want %d", got, want)
	}
	if _, err := c.Transceive(ctx, selectNHI); err != nil {
		t.Fatalf("Transceive after resynch: %v", err)
	}
	l.done()
}

func TestNegotiateIFSD(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
		ok    bool
	}{
		{"accepted", []step{{want: SBlock(SIFS, false, []byte{254}), reply: reply(SBlock(SIFS, true, []byte{254}))}}, true},
		{"resent after EDC error", []step{
			{want: SBlock(SIFS, false, []byte{254}), reply: corrupt(SBlock(SIFS, true, []byte{254}))},
			{want: SBlock(SIFS, false, []byte{254}), reply: reply(SBlock(SIFS, true, []byte{254}))},
		}, true},
		{"other size", []step{{want: SBlock(SIFS, false, []byte{254}), reply: reply(SBlock(SIFS, true, []byte{32}))}}, false},
		{"answered with an I-block", []step{{want: SBlock(SIFS, false, []byte{254}), reply: reply(IBlock(0, false, sw9000))}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &scriptLink{t: t, steps: tc.steps}
			c := New(l, 0)
			err := c.NegotiateIFSD(context.Background(), 254)
			if (err == nil) != tc.ok {
				t.Fatalf("NegotiateIFSD = %v, want ok %t", err, tc.ok)
			}
			if tc.ok && c.IFSD() != 254 {
				t.Errorf("IFSD = %d, want 254", c.IFSD())
			}
			if got, want := c.IFSC(), DefaultIFS; got != want {
				t.Errorf("IFSC = %d, want %d", got, want)
			}
			l.done()
		})
	}
}
