package upstreamtest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// SMTPFront is a tiny SMTP server that stands in front of a real relay
// (Mailpit) in tests, the way a mail relay of the NHI's would: it
// answers 451 to RCPT TO for the addresses it greylists (a relay
// deferring one recipient, for good) and passes every other message,
// unchanged, to the relay behind it. It can also hold its answer to one
// message after passing it on, so a test can kill the sender between
// "the relay has it" and "the sender knows". Test code only; it speaks
// just enough SMTP (RFC 5321) for net/smtp.
type SMTPFront struct {
	// Addr is where it listens (host:port on loopback).
	Addr     string
	relay    string
	ln       net.Listener
	mu       sync.Mutex
	grey     map[string]bool
	deferred int
	relayed  int
	hold     *hold
	wg       sync.WaitGroup
}

type hold struct {
	passed  chan struct{} // closed when the held message reached the relay
	release chan struct{}
}

// StartSMTPFront listens on a loopback port in front of relay (host:port)
// until the test ends.
func StartSMTPFront(t testing.TB, relay string) *SMTPFront {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &SMTPFront{Addr: ln.Addr().String(), relay: relay, ln: ln, grey: map[string]bool{}}
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		if f.hold != nil {
			close(f.hold.release)
			f.hold = nil
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

// Greylist makes the front answer 451 to every RCPT TO of addr.
func (f *SMTPFront) Greylist(addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.grey[strings.ToLower(addr)] = true
}

// Deferred is how many RCPT TO it answered 451; Relayed how many
// messages it passed on.
func (f *SMTPFront) Deferred() int { f.mu.Lock(); defer f.mu.Unlock(); return f.deferred }

// Relayed is how many messages it passed on to the relay.
func (f *SMTPFront) Relayed() int { f.mu.Lock(); defer f.mu.Unlock(); return f.relayed }

// HoldNext makes the front pass the next message on and then hold its
// "250" until release is called (or the test ends): passed is closed
// once the relay has the message.
func (f *SMTPFront) HoldNext() (passed <-chan struct{}, release func()) {
	h := &hold{passed: make(chan struct{}), release: make(chan struct{})}
	f.mu.Lock()
	f.hold = h
	f.mu.Unlock()
	var once sync.Once
	return h.passed, func() { once.Do(func() { close(h.release) }) }
}

func (f *SMTPFront) serve() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(time.Minute))
			f.session(textproto.NewConn(c))
		}()
	}
}

// session runs one SMTP conversation.
func (f *SMTPFront) session(tc *textproto.Conn) {
	say := func(code int, msg string) bool { return tc.PrintfLine("%d %s", code, msg) == nil }
	if !say(220, "front ESMTP test relay") {
		return
	}
	var from string
	var to []string
	for {
		line, err := tc.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			say(250, "front")
		case "MAIL":
			from, to = addrOf(arg), nil
			say(250, "2.1.0 ok")
		case "RCPT":
			a := addrOf(arg)
			f.mu.Lock()
			grey := f.grey[strings.ToLower(a)]
			if grey {
				f.deferred++
			}
			f.mu.Unlock()
			if grey {
				say(451, "4.7.1 greylisted, try again later")
				continue
			}
			to = append(to, a)
			say(250, "2.1.5 ok")
		case "DATA":
			if len(to) == 0 {
				say(554, "5.5.1 no valid recipients")
				continue
			}
			say(354, "end with <CRLF>.<CRLF>")
			body, err := io.ReadAll(tc.DotReader())
			if err != nil {
				return
			}
			if err := f.pass(from, to, body); err != nil {
				say(451, "4.3.0 relay behind the front failed")
				continue
			}
			say(250, "2.0.0 queued")
		case "RSET":
			from, to = "", nil
			say(250, "2.0.0 ok")
		case "NOOP":
			say(250, "2.0.0 ok")
		case "QUIT":
			say(221, "2.0.0 bye")
			return
		default:
			say(502, "5.5.2 not implemented")
		}
	}
}

// pass relays one message, and holds if HoldNext asked for it.
func (f *SMTPFront) pass(from string, to []string, body []byte) error {
	if err := smtp.SendMail(f.relay, nil, from, to, body); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	f.mu.Lock()
	f.relayed++
	h := f.hold
	f.hold = nil
	f.mu.Unlock()
	if h != nil {
		close(h.passed)
		select {
		case <-h.release:
		case <-time.After(time.Minute):
			return errors.New("held too long")
		}
	}
	return nil
}

// addrOf reads the address of "FROM:<a>" or "TO:<a>".
func addrOf(arg string) string {
	_, a, _ := strings.Cut(arg, ":")
	a = strings.TrimSpace(a)
	if i := strings.IndexByte(a, '>'); i >= 0 {
		a = a[:i]
	}
	return strings.TrimPrefix(a, "<")
}
