package readertest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// vpcd's control codes: a 1-byte message from the reader (vsmartcard
// virtualsmartcard/src/vpcd/vpcd.h).
const (
	ctrlOff   = 0
	ctrlOn    = 1
	ctrlReset = 2
	ctrlATR   = 4
)

// DefaultVPCDAddr is where vpcd waits for the card of its first reader,
// "Virtual PCD 00 00"; the second, "Virtual PCD 00 01", is on port 35964.
const DefaultVPCDAddr = "localhost:35963"

const (
	dialTimeout  = 5 * time.Second
	writeTimeout = 5 * time.Second
)

// Inserted is a virtual card plugged into vpcd. The card is in the reader
// while the TCP connection lasts: vpcd polls it (about every 0.4 s) by
// asking for its ATR, and pcscd reports it present once vpcd has accepted
// the connection and removed once the connection is gone.
type Inserted struct {
	conn net.Conn
	card *Card
	done chan struct{}
	once sync.Once
	err  error // why the card left; read after done is closed
}

// Insert plugs card into the vpcd reader listening at addr (host:port) and
// answers for it until Remove, until the card pulls itself out (PullOn),
// or until vpcd hangs up.
func Insert(ctx context.Context, addr string, card *Card) (*Inserted, error) {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("insert virtual card into vpcd at %s: %w", addr, err)
	}
	// Without TCP_NODELAY each short answer waits for the peer's delayed
	// ACK (~40 ms on Linux) and every APDU becomes slow.
	if tc, ok := conn.(*net.TCPConn); ok {
		if err := tc.SetNoDelay(true); err != nil {
			conn.Close()
			return nil, fmt.Errorf("insert virtual card: set TCP_NODELAY: %w", err)
		}
	}
	in := &Inserted{conn: conn, card: card, done: make(chan struct{})}
	go in.serve()
	return in, nil
}

// Remove pulls the card out of the reader and waits until it has stopped
// answering. It is safe to call more than once and after the card left by
// itself.
func (in *Inserted) Remove() {
	in.stop(nil)
	<-in.done
}

// Done is closed once the card has left the reader.
func (in *Inserted) Done() <-chan struct{} { return in.done }

// Err says why the card left the reader: nil after Remove, ErrPulled when
// it pulled itself out, or the connection's error. Valid after Done.
func (in *Inserted) Err() error {
	<-in.done
	return in.err
}

func (in *Inserted) stop(err error) {
	in.once.Do(func() {
		in.err = err
		in.conn.Close()
	})
}

func (in *Inserted) serve() {
	defer close(in.done)
	for {
		quickAck(in.conn)
		msg, err := readMsg(in.conn)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("vpcd closed the connection")
			}
			in.stop(err)
			return
		}
		resp, answer, err := in.handle(msg)
		if err != nil {
			in.stop(err)
			return
		}
		if !answer {
			continue
		}
		if err := writeMsg(in.conn, resp); err != nil {
			in.stop(err)
			return
		}
	}
}

// handle answers one message from vpcd: a 1-byte control code or an APDU.
// answer is false for the control codes vpcd expects no reply to.
func (in *Inserted) handle(msg []byte) (resp []byte, answer bool, err error) {
	if len(msg) != 1 {
		resp, err := in.card.Respond(msg)
		return resp, true, err
	}
	switch msg[0] {
	case ctrlATR:
		return in.card.ATR(), true, nil
	case ctrlOn, ctrlReset:
		in.card.Reset()
	case ctrlOff:
	}
	return nil, false, nil
}

// readMsg reads one vpcd message: a 2-byte big-endian length, then as
// many bytes.
func readMsg(r io.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("read from vpcd: %w", err)
	}
	msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, fmt.Errorf("read from vpcd: %w", err)
	}
	return msg, nil
}

// writeMsg sends one vpcd message in a single write.
func writeMsg(conn net.Conn, payload []byte) error {
	if len(payload) > 0xFFFF {
		return fmt.Errorf("write to vpcd: %d bytes do not fit a message", len(payload))
	}
	buf := make([]byte, 2+len(payload))
	binary.BigEndian.PutUint16(buf, uint16(len(payload)))
	copy(buf[2:], payload)
	if err := conn.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return fmt.Errorf("write to vpcd: %w", err)
	}
	if _, err := conn.Write(buf); err != nil {
		return fmt.Errorf("write to vpcd: %w", err)
	}
	return nil
}

// VPCDReader is the PC/SC name pcscd gives the vpcd reader whose card
// port addr names: port 35963 is "Virtual PCD 00 00", 35964 "Virtual PCD
// 00 01" (vpcd's reader.conf: CHANNELID 0x8C7B, one port per reader).
func VPCDReader(addr string) (string, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("vpcd reader of %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < vpcdBasePort || port > vpcdBasePort+1 {
		return "", fmt.Errorf("vpcd reader of %q: port is not 35963 or 35964", addr)
	}
	return fmt.Sprintf("Virtual PCD 00 %02d", port-vpcdBasePort), nil
}

// WithPort is addr (host:port) with its port replaced, e.g. to reach
// vpcd's second reader from NHIKIOSK_VPCD_ADDR.
func WithPort(addr string, port int) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("change port of %q: %w", addr, err)
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

const vpcdBasePort = 35963
