package sntp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// DefaultTimeout bounds one query when ctx has no earlier deadline.
const DefaultTimeout = 5 * time.Second

// Answer is a server's time, as of the moment Query returned.
type Answer struct {
	// Time is the time now: the server's transmit time plus half the
	// network round trip (the round trip less the time the server held
	// the request), plus the time since the answer arrived.
	Time time.Time
	// RTT is the network round trip, without the server's own delay.
	RTT time.Duration
	// Stratum is the server's distance from a reference clock (1 is a
	// server with its own reference clock).
	Stratum int
}

// Query asks server ("host" or "host:port"; port 123 by default) for the
// time with one request, waiting up to DefaultTimeout or ctx's deadline,
// whichever is earlier. pivot places the server's 32-bit seconds in an
// era (Time); give the earliest time the answer can be, such as the
// image's build time.
func Query(ctx context.Context, server string, pivot time.Time) (Answer, error) {
	addr := server
	if _, _, err := net.SplitHostPort(server); err != nil {
		addr = net.JoinHostPort(server, "123")
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return Answer{}, fmt.Errorf("sntp %s: %w", server, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()

	var nb [8]byte
	rand.Read(nb[:])
	nonce := binary.BigEndian.Uint64(nb[:])
	sent := time.Now() // only its monotonic reading is used
	if _, err := conn.Write(request(nonce)); err != nil {
		return Answer{}, fmt.Errorf("sntp %s: send: %w", server, err)
	}
	buf := make([]byte, 512)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			} else if errors.Is(err, os.ErrDeadlineExceeded) {
				err = context.DeadlineExceeded
			}
			return Answer{}, fmt.Errorf("sntp %s: no answer: %w", server, err)
		}
		got := time.Now()
		p, err := Parse(buf[:n], nonce)
		if err != nil && p.Origin != nonce {
			continue // not the answer to this request (late, forged or cut short)
		}
		if err != nil {
			return Answer{}, fmt.Errorf("sntp %s: %w", server, err)
		}
		return answer(p, got.Sub(sent), pivot, got)
	}
}

// answer turns a checked packet that arrived rtt after the request was
// sent, at local instant got, into the time now.
func answer(p Packet, rtt time.Duration, pivot, got time.Time) (Answer, error) {
	held := serverDelay(p)
	if held > rtt {
		return Answer{}, fmt.Errorf("%w: the server held the request %v, longer than the round trip %v", ErrBadAnswer, held, rtt)
	}
	net := rtt - held
	t := Time(p.Transmit, pivot).Add(net / 2)
	return Answer{Time: t.Add(time.Since(got)), RTT: net, Stratum: int(p.Stratum)}, nil
}
