package vscard

import (
	"bytes"
	"net"
	"testing"
)

func TestHandshakeAndAPDU(t *testing.T) {
	qemu, ours := net.Pipe()
	defer qemu.Close()
	go func() {
		c, err := NewCard(ours, func(apdu []byte) []byte { return append(apdu[:0:0], 0x90, 0x00) })
		if err != nil {
			return
		}
		c.Insert([]byte{0x3B, 0x02, 0x14, 0x50})
		c.Serve()
	}()
	for _, want := range []uint32{MsgInit, MsgReaderAdd, MsgATR} {
		m, err := ReadMsg(qemu)
		if err != nil || m.Type != want {
			t.Fatalf("message %d, %v; want %d", m.Type, err, want)
		}
		if want == MsgInit && !bytes.HasPrefix(m.Data, []byte("VSCD\x00\x00\x00\x02")) {
			t.Errorf("Init = % X", m.Data)
		}
	}
	qemu.Write(Msg{Type: MsgAPDU, Data: []byte{0x00, 0xA4, 0x04, 0x00}}.Encode())
	m, err := ReadMsg(qemu)
	if err != nil || m.Type != MsgAPDU || !bytes.Equal(m.Data, []byte{0x90, 0x00}) {
		t.Fatalf("answer %+v, %v", m, err)
	}
}

func FuzzReadMsg(f *testing.F) {
	f.Add(Msg{Type: MsgAPDU, Data: []byte{0x90, 0x00}}.Encode())
	f.Add(initMsg().Encode())
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := ReadMsg(bytes.NewReader(p))
		if err != nil {
			return
		}
		if got := m.Encode(); !bytes.Equal(got, p[:len(got)]) {
			t.Fatalf("Encode(ReadMsg(% X)) = % X", p, got)
		}
	})
}
