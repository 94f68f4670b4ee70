// Package vscard speaks QEMU's virtual smart card protocol (libcacard's
// vscard_common.h, used by the ccid-card-passthru device over a chardev)
// from the card's side, so a test can put a virtual card into QEMU's
// emulated usb-ccid reader: it answers the guest's XfrBlock payloads the
// way a card would.
//
// It is for tests and development; it never runs on the kiosk.
package vscard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Message types (vscard_common.h, VSCMsgType).
const (
	MsgInit          = 1
	MsgError         = 2
	MsgReaderAdd     = 3
	MsgReaderRemove  = 4
	MsgATR           = 5
	MsgCardRemove    = 6
	MsgAPDU          = 7
	MsgFlush         = 8
	MsgFlushComplete = 9

	version      = 2 // VSCARD_VERSION 0.0.2
	headerLen    = 12
	maxMsg       = 64 << 10 // QEMU's VSCARD_IN_SIZE
	readerID     = 0        // VSCARD_MINIMAL_READER_ID
	undefinedRdr = 0xFFFFFFFF
)

// ErrProtocol means the peer sent something that is not a VSC message.
var ErrProtocol = errors.New("vscard: protocol error")

// Msg is one VSC message; all header fields are big-endian on the wire.
type Msg struct {
	Type   uint32
	Reader uint32
	Data   []byte
}

// ReadMsg reads one message.
func ReadMsg(r io.Reader) (Msg, error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Msg{}, err
	}
	m := Msg{Type: binary.BigEndian.Uint32(h[0:]), Reader: binary.BigEndian.Uint32(h[4:])}
	n := binary.BigEndian.Uint32(h[8:])
	if n > maxMsg || m.Type < MsgInit || m.Type > MsgFlushComplete {
		return Msg{}, fmt.Errorf("%w: type %d length %d", ErrProtocol, m.Type, n)
	}
	m.Data = make([]byte, n)
	if _, err := io.ReadFull(r, m.Data); err != nil {
		return Msg{}, fmt.Errorf("vscard: read %d bytes: %w", n, err)
	}
	return m, nil
}

// Encode returns the message on the wire.
func (m Msg) Encode() []byte {
	out := make([]byte, headerLen+len(m.Data))
	binary.BigEndian.PutUint32(out[0:], m.Type)
	binary.BigEndian.PutUint32(out[4:], m.Reader)
	binary.BigEndian.PutUint32(out[8:], uint32(len(m.Data)))
	copy(out[headerLen:], m.Data)
	return out
}

func initMsg() Msg {
	d := make([]byte, 12)
	copy(d, "VSCD") // VSCARD_MAGIC is the four bytes themselves
	binary.BigEndian.PutUint32(d[4:], version)
	return Msg{Type: MsgInit, Reader: undefinedRdr, Data: d}
}

// Card is the card side of one connection from QEMU's chardev.
type Card struct {
	conn io.ReadWriter
	// Answer turns what the guest sent to the card (an APDU, or a T=1 block
	// when the guest's driver works at TPDU level) into the card's answer;
	// nil sends nothing (a card pulled out mid-exchange: call Remove).
	Answer func([]byte) []byte

	mu sync.Mutex // one message written at a time
}

// NewCard starts the VSC handshake on conn (Init, ReaderAdd).
func NewCard(conn io.ReadWriter, answer func([]byte) []byte) (*Card, error) {
	c := &Card{conn: conn, Answer: answer}
	if err := c.send(initMsg()); err != nil {
		return nil, err
	}
	if err := c.send(Msg{Type: MsgReaderAdd, Reader: undefinedRdr, Data: []byte("nhikiosk virtual reader\x00")}); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Card) send(m Msg) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.conn.Write(m.Encode()); err != nil {
		return fmt.Errorf("vscard: send %d: %w", m.Type, err)
	}
	return nil
}

// Insert puts the card with atr into the reader.
func (c *Card) Insert(atr []byte) error {
	return c.send(Msg{Type: MsgATR, Reader: readerID, Data: atr})
}

// Remove takes the card out.
func (c *Card) Remove() error { return c.send(Msg{Type: MsgCardRemove, Reader: readerID}) }

// Serve answers the guest's APDUs until the connection ends. It returns
// the read error (io.EOF when QEMU closed the chardev).
func (c *Card) Serve() error {
	for {
		m, err := ReadMsg(c.conn)
		if err != nil {
			return err
		}
		switch m.Type {
		case MsgAPDU:
			ans := c.Answer(m.Data)
			if ans == nil {
				continue // silent: the card is being pulled out (Remove follows)
			}
			if err := c.send(Msg{Type: MsgAPDU, Reader: readerID, Data: ans}); err != nil {
				return err
			}
		case MsgFlush:
			if err := c.send(Msg{Type: MsgFlushComplete, Reader: readerID}); err != nil {
				return err
			}
		}
	}
}
