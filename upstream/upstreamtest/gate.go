package upstreamtest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Gate stands for an upstream that cannot be reached and then can: a TCP
// forwarder on loopback that drops every connection until Open, then
// forwards each to a target. It stops at the end of the test.
type Gate struct {
	ln      net.Listener
	target  string
	open    atomic.Bool
	dropped atomic.Int64
}

// NewGate listens on 127.0.0.1, closed, forwarding to target once open.
func NewGate(t testing.TB, target string) *Gate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &Gate{ln: ln, target: target}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(g.serve)
	return g
}

// Addr is the gate's "127.0.0.1:port".
func (g *Gate) Addr() string { return g.ln.Addr().String() }

// Open lets connections through from now on.
func (g *Gate) Open() { g.open.Store(true) }

// Dropped counts the connections dropped while closed.
func (g *Gate) Dropped() int64 { return g.dropped.Load() }

func (g *Gate) serve() {
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		if !g.open.Load() {
			g.dropped.Add(1)
			c.Close()
			continue
		}
		u, err := net.DialTimeout("tcp", g.target, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		go func() { io.Copy(u, c); u.Close() }()
		go func() { io.Copy(c, u); c.Close() }()
	}
}
