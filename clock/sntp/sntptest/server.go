// Package sntptest is an NTP server on loopback UDP for tests: it answers
// every request with the time its clock gives, or with a fault.
package sntptest

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"
)

// Fault is a way to answer wrongly.
type Fault int

// Faults.
const (
	None          Fault = iota
	Silent              // read the request, answer nothing
	Kiss                // stratum 0 with kiss code RATE
	Unsynced            // leap indicator 3: the server's clock is not set
	WrongOrigin         // echo a different origin timestamp
	ClientMode          // answer in mode 3 (client)
	ShortPacket         // 20 bytes
	HeldTooLong         // transmit an hour after receive
	WrongThenGood       // first a forged answer, then the right one
	TransmitZero        // transmit timestamp 0
)

// Server answers NTP requests on 127.0.0.1.
type Server struct {
	conn *net.UDPConn
	mu   sync.Mutex
	now  func() time.Time
	// fault is how the next answers go wrong.
	fault    Fault
	requests int
}

// NewServer starts a server whose clock is now, closed when the test ends.
func NewServer(t testing.TB, now func() time.Time) *Server {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{conn: c, now: now}
	done := make(chan struct{})
	go func() { defer close(done); s.serve() }()
	t.Cleanup(func() { c.Close(); <-done })
	return s
}

// Addr is the server's "127.0.0.1:port".
func (s *Server) Addr() string { return s.conn.LocalAddr().String() }

// SetFault makes the following answers go wrong (None: right again).
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
}

// SetClock replaces the server's clock.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// Requests counts the requests received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *Server) serve() {
	buf := make([]byte, 512)
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if n < 48 {
			continue
		}
		s.mu.Lock()
		s.requests++
		f, now := s.fault, s.now
		s.mu.Unlock()
		origin := binary.BigEndian.Uint64(buf[40:48])
		recv := now()
		if f == WrongThenGood {
			s.conn.WriteToUDP(Answer(origin+1, recv, recv, None), from)
		}
		if f != Silent {
			s.conn.WriteToUDP(Answer(origin, recv, now(), f), from)
		}
	}
}

// Answer builds a server's answer to the request with transmit timestamp
// origin, received at recv and sent at sent, with fault f.
func Answer(origin uint64, recv, sent time.Time, f Fault) []byte {
	b := make([]byte, 48)
	b[0] = 0<<6 | 4<<3 | 4 // no leap warning, version 4, server
	b[1] = 2               // stratum
	copy(b[12:16], "GPS\x00")
	switch f {
	case Kiss:
		b[1] = 0
		copy(b[12:16], "RATE")
	case Unsynced:
		b[0] |= 3 << 6
	case WrongOrigin:
		origin++
	case ClientMode:
		b[0] = 4<<3 | 3
	case HeldTooLong:
		sent = recv.Add(time.Hour)
	}
	binary.BigEndian.PutUint64(b[16:], Stamp(recv)) // reference time
	binary.BigEndian.PutUint64(b[24:], origin)
	binary.BigEndian.PutUint64(b[32:], Stamp(recv))
	binary.BigEndian.PutUint64(b[40:], Stamp(sent))
	switch f {
	case ShortPacket:
		return b[:20]
	case TransmitZero:
		binary.BigEndian.PutUint64(b[40:], 0)
	}
	return b
}

// Stamp is t as a 64-bit NTP timestamp (seconds since 1900 modulo 2^32,
// and the fraction).
func Stamp(t time.Time) uint64 {
	d := t.Sub(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC))
	if d < 0 {
		return 0
	}
	secs := uint64(t.Unix() + 2208988800)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}
