package instance

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/reader/ccid/ccidtest"
	"github.com/nhikiosk/nhikiosk/reader/ccid/vscard"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
)

// vmReader is the VM's card reader: QEMU's usb-ccid with a
// ccid-card-passthru whose chardev connects to a listener of the test,
// which serves our virtual NHI card on it (vscard; readertest's TEST ONE
// behind ccidtest's T=1). bootVM plugs it in unless told not to.
type vmReader struct {
	t  *testing.T
	q  *qmp
	ln net.Listener
	// pullOnRead makes the card go silent on the next READ PROFILE and
	// be pulled out.
	pullOnRead atomic.Bool

	mu     sync.Mutex
	cur    *vscard.Card
	t1     *ccidtest.T1Card
	blocks []string
	slots  int
}

func newVMReader(t *testing.T) *vmReader {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &vmReader{t: t, ln: ln}
}

// port is the listener's port, where QEMU connects the card's chardev.
func (r *vmReader) port() string { return fmt.Sprint(r.ln.Addr().(*net.TCPAddr).Port) }

// qemuArgs plug the reader in at QEMU's start. NHIKIOSK_VM_PCAP=FILE
// records its USB traffic (reader/ccid/testdata).
func (r *vmReader) qemuArgs() []string {
	pcap := ""
	if p := os.Getenv("NHIKIOSK_VM_PCAP"); p != "" {
		pcap = ",pcap=" + p
	}
	return []string{"-chardev", "socket,id=card,host=127.0.0.1,port=" + r.port(),
		"-device", "usb-ccid,id=ccid" + pcap, "-device", "ccid-card-passthru,chardev=card,id=cardslot"}
}

// card is the virtual card on the current chardev connection.
func (r *vmReader) card() *vscard.Card {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// insert puts a card fresh from its power-on (T=1 sequence numbers from
// zero) into the reader.
func (r *vmReader) insert() {
	r.t.Helper()
	r.mu.Lock()
	r.t1 = ccidtest.NewT1Card(nhiCard(r.t))
	c := r.cur
	r.mu.Unlock()
	if err := c.Insert(ccidtest.NHIATR); err != nil {
		r.t.Fatal(err)
	}
}

// wire returns the T=1 blocks the guest sent since the last call.
func (r *vmReader) wire() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.blocks
	r.blocks = nil
	return w
}

// readProfile is the NHI READ PROFILE command inside a T=1 block.
var readProfile = []byte{0x00, 0xCA, 0x11, 0x00, 0x02, 0x00, 0x00}

// connect accepts QEMU's connection to the card chardev and serves the
// virtual NHI card on it.
func (r *vmReader) connect() {
	t := r.t
	t.Helper()
	r.ln.(*net.TCPListener).SetDeadline(time.Now().Add(30 * time.Second))
	conn, err := r.ln.Accept()
	if err != nil {
		t.Fatalf("QEMU did not connect the card chardev: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	var c *vscard.Card
	c, err = vscard.NewCard(conn, func(block []byte) []byte {
		r.mu.Lock()
		r.blocks = append(r.blocks, fmt.Sprintf("% X", block))
		r.mu.Unlock()
		if bytes.Contains(block, readProfile) && r.pullOnRead.CompareAndSwap(true, false) {
			go c.Remove() // the card leaves with the command unanswered
			return nil
		}
		r.mu.Lock()
		t1 := r.t1
		r.mu.Unlock()
		return t1.Receive(block)
	})
	if err != nil {
		t.Fatal(err)
	}
	go c.Serve()
	r.mu.Lock()
	r.cur = c
	r.mu.Unlock()
}

// replug plugs a new usb-ccid in through QMP (the old one was unplugged)
// with its card on a new chardev connection.
func (r *vmReader) replug() {
	r.t.Helper()
	r.slots++
	id := fmt.Sprintf("card%d", r.slots)
	r.q.must("chardev-add", map[string]any{"id": id, "backend": map[string]any{"type": "socket", "data": map[string]any{
		"addr":   map[string]any{"type": "inet", "data": map[string]any{"host": "127.0.0.1", "port": r.port()}},
		"server": false}}})
	r.connect()
	r.q.must("device_add", map[string]any{"driver": "usb-ccid", "id": "ccid" + id})
	r.q.must("device_add", map[string]any{"driver": "ccid-card-passthru", "chardev": id, "id": "slot" + id})
}

// checkWire compares the T=1 blocks the guest sent with one NHI read.
// QEMU's reader claims to do the IFSD exchange itself (dwFeatures 0x400)
// but passes blocks through, so the card keeps IFSD 32 and chains the
// 59-byte profile answer: the guest acknowledges the first part with R(0).
func checkWire(t *testing.T, wire []string) {
	t.Helper()
	want := []string{
		"00 00 15 00 A4 04 00 10 D1 58 00 00 01 00 00 00 00 00 00 00 00 00 11 00 3C", // I(0) SELECT
		"00 40 07 00 CA 11 00 02 00 00 9E",                                           // I(1) READ PROFILE
		"00 80 00 80",                                                                // R(0): next part of the card's chain
	}
	if strings.Join(wire, "|") != strings.Join(want, "|") {
		t.Errorf("blocks from the guest:\n%s\nwant:\n%s", strings.Join(wire, "\n"), strings.Join(want, "\n"))
	}
}

// nhiCard answers like the NHI card of the fake person TEST ONE, with
// the card logic the PC/SC tests use.
func nhiCard(t *testing.T) ccidtest.Card {
	c, err := readertest.NewCard(readertest.TestOne)
	if err != nil {
		t.Fatal(err)
	}
	return func(apdu []byte) []byte {
		resp, err := c.Respond(apdu)
		if err != nil {
			t.Errorf("virtual card: %v", err)
		}
		return resp
	}
}
