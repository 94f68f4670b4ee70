package upstreamtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// Mailpit reads the e-mails a real Mailpit caught, through its HTTP API
// (NHIKIOSK_MAILPIT_API, started by .ci/services/smtp.sh).
type Mailpit struct {
	API string
}

// MailpitMessage is the part of a caught message tests look at.
type MailpitMessage struct {
	ID string
	// MessageID is the message's Message-ID header, without its angle
	// brackets (Mailpit's own ID is ID).
	MessageID string
	Subject   string
	Text      string
}

var mailpitHTTP = &http.Client{Timeout: 10 * time.Second}

func (m Mailpit) get(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := mailpitHTTP.Get(m.API + path)
	if err != nil {
		t.Fatalf("mailpit API: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit API %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("mailpit API %s: %v", path, err)
	}
}

// To returns the messages caught for addr, oldest first, with their text.
func (m Mailpit) To(t testing.TB, addr string) []MailpitMessage {
	t.Helper()
	var list struct {
		Messages []struct{ ID string }
	}
	m.get(t, "/api/v1/search?query="+url.QueryEscape(fmt.Sprintf("to:%q", addr)), &list)
	out := make([]MailpitMessage, 0, len(list.Messages))
	for i := len(list.Messages) - 1; i >= 0; i-- {
		var msg MailpitMessage
		m.get(t, "/api/v1/message/"+url.PathEscape(list.Messages[i].ID), &msg)
		out = append(out, msg)
	}
	return out
}

// Wait waits up to 15 s for the n-th (from 1) message to addr.
func (m Mailpit) Wait(t testing.TB, addr string, n int) MailpitMessage {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if ms := m.To(t, addr); len(ms) >= n {
			return ms[n-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit: no message #%d to the test address within 15s", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
