package readertest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/reader"
)

// fakeVPCD accepts one card on loopback and talks vpcd's protocol to it,
// so the client's framing is tested without pcscd.
type fakeVPCD struct {
	t    *testing.T
	ln   net.Listener
	conn net.Conn
}

func newFakeVPCD(t *testing.T) *fakeVPCD {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &fakeVPCD{t: t, ln: ln}
}

func (v *fakeVPCD) accept() {
	v.t.Helper()
	c, err := v.ln.Accept()
	if err != nil {
		v.t.Fatal(err)
	}
	v.t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	v.conn = c
}

func (v *fakeVPCD) send(payload []byte) {
	v.t.Helper()
	msg := binary.BigEndian.AppendUint16(nil, uint16(len(payload)))
	if _, err := v.conn.Write(append(msg, payload...)); err != nil {
		v.t.Fatal(err)
	}
}

func (v *fakeVPCD) recv() []byte {
	v.t.Helper()
	b, err := readMsg(v.conn)
	if err != nil {
		v.t.Fatal(err)
	}
	return b
}

func TestVPCDProtocol(t *testing.T) {
	v := newFakeVPCD(t)
	card, err := NewCard(TestOne)
	if err != nil {
		t.Fatal(err)
	}
	in, err := Insert(context.Background(), v.ln.Addr().String(), card)
	if err != nil {
		t.Fatal(err)
	}
	v.accept()

	v.send([]byte{ctrlATR})
	if got := v.recv(); !bytes.Equal(got, NHIATR) {
		t.Errorf("ATR = %x, want %x", got, NHIATR)
	}
	v.send([]byte{ctrlOff}) // no answer expected to control codes 0, 1, 2
	v.send([]byte{ctrlOn})
	v.send(reader.SelectNHI)
	if got := hex.EncodeToString(v.recv()); got != "9000" {
		t.Errorf("SELECT answered %s, want 9000", got)
	}
	v.send(reader.ReadProfileCmd)
	want := append(bytes.Clone(card.Profile), 0x90, 0x00)
	if got := v.recv(); !bytes.Equal(got, want) {
		t.Errorf("READ PROFILE answered %x, want %x", got, want)
	}
	v.send([]byte{ctrlReset}) // deselects
	v.send(reader.ReadProfileCmd)
	if got := hex.EncodeToString(v.recv()); got != "6985" {
		t.Errorf("READ PROFILE after reset answered %s, want 6985", got)
	}

	in.Remove()
	if err := in.Err(); err != nil {
		t.Errorf("Err after Remove = %v, want nil", err)
	}
	if _, err := readMsg(v.conn); !errors.Is(err, io.EOF) {
		t.Errorf("vpcd read after Remove = %v, want EOF", err)
	}
}

func TestVPCDPulledAndHangUp(t *testing.T) {
	v := newFakeVPCD(t)
	card, err := NewCard(TestOne)
	if err != nil {
		t.Fatal(err)
	}
	card.PullOn = 0xCA
	in, err := Insert(context.Background(), v.ln.Addr().String(), card)
	if err != nil {
		t.Fatal(err)
	}
	v.accept()
	v.send(reader.SelectNHI)
	v.recv()
	v.send(reader.ReadProfileCmd)
	if err := in.Err(); !errors.Is(err, ErrPulled) {
		t.Errorf("Err = %v, want ErrPulled", err)
	}

	// vpcd hanging up ends the card too.
	in2, err := Insert(context.Background(), v.ln.Addr().String(), &Card{Kind: Foreign})
	if err != nil {
		t.Fatal(err)
	}
	v.accept()
	v.conn.Close()
	if err := in2.Err(); err == nil {
		t.Error("Err after vpcd hung up = nil, want an error")
	}
}

func TestVPCDReader(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:35963": "Virtual PCD 00 00",
		"localhost:35964": "Virtual PCD 00 01",
		"localhost:1234":  "",
		"nonsense":        "",
	} {
		got, err := VPCDReader(addr)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("VPCDReader(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
}

// FuzzVPCDStream feeds arbitrary bytes from "vpcd" to the card: the
// client must never panic, whatever the framing.
func FuzzVPCDStream(f *testing.F) {
	f.Add([]byte{0, 1, 4})
	f.Add(append([]byte{0, byte(len(reader.SelectNHI))}, reader.SelectNHI...))
	f.Add([]byte{0, 1, 1, 0, 7, 0, 0xCA, 0x11, 0, 2, 0, 0})
	f.Add([]byte{0xFF, 0xFF, 1})
	f.Fuzz(func(t *testing.T, stream []byte) {
		a, b := net.Pipe()
		card, err := NewCard(TestOne)
		if err != nil {
			t.Fatal(err)
		}
		card.GetResponse = len(stream)%2 == 0
		in := &Inserted{conn: b, card: card, done: make(chan struct{})}
		go in.serve()
		go io.Copy(io.Discard, a) // take the answers
		_, _ = a.Write(stream)
		a.Close()
		<-in.Done()
	})
}
