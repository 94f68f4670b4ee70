package upstreamtest

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/upstream/server"
)

// Mailbox is a fake server.Mailer for unit tests: it keeps every mail in
// memory. Integration tests use the real SMTP catcher instead.
type Mailbox struct {
	mu    sync.Mutex
	mails []server.Mail
	ch    chan struct{}
}

// NewMailbox returns an empty Mailbox.
func NewMailbox() *Mailbox { return &Mailbox{ch: make(chan struct{}, 1)} }

// Send records m.
func (b *Mailbox) Send(_ context.Context, m server.Mail) error {
	b.mu.Lock()
	b.mails = append(b.mails, m)
	b.mu.Unlock()
	select {
	case b.ch <- struct{}{}:
	default:
	}
	return nil
}

// To returns the mails sent to addr so far.
func (b *Mailbox) To(addr string) []server.Mail {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []server.Mail
	for _, m := range b.mails {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

// Len is the number of mails sent.
func (b *Mailbox) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.mails)
}

// WaitCode waits for the n-th (from 1) mail to addr and returns its code.
func (b *Mailbox) WaitCode(t testing.TB, addr string, n int) string {
	t.Helper()
	for range 500 {
		if ms := b.To(addr); len(ms) >= n {
			return CodeIn(t, ms[n-1].Body)
		}
		select {
		case <-b.ch:
		case <-timeAfter():
		}
	}
	t.Fatalf("no mail #%d to the test address", n)
	return ""
}

var codeRE = regexp.MustCompile(`Code: (\d{6})`)

// CodeIn extracts the 6-digit code from an e-mail body.
func CodeIn(t testing.TB, body string) string {
	t.Helper()
	m := codeRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no code in e-mail body")
	}
	return m[1]
}

func timeAfter() <-chan time.Time { return time.After(20 * time.Millisecond) }
