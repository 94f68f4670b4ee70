package server_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestStartDev(t *testing.T) {
	var out syncBuf
	dev, err := server.StartDev(context.Background(), t.TempDir(), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := upstream.OpenOutbox(t.TempDir(), dev.Recipient, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := upstream.New(upstream.Options{BaseURL: dev.URL, Outbox: ob, CardProver: upstreamtest.Genuine})
	p := upstreamtest.Person(70)
	res, err := c.Register(context.Background(), p)
	if err != nil || res.Queued {
		t.Fatalf("Register = %+v, %v", res, err)
	}
	for i := 0; i < 500 && !strings.Contains(out.String(), res.Reference); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	line := out.String()
	if !strings.Contains(line, "reference="+res.Reference) || strings.Contains(line, p.Contact.Email) {
		t.Errorf("dev output = %q, want the reference and no address", line)
	}
	if err := c.Verify(context.Background(), p.CardNumber, p.IDNumber, upstreamtest.CodeIn(t, strings.Replace(line, "code=", "Code: ", 1))); err != nil {
		t.Errorf("Verify with the printed code: %v", err)
	}
	if err := dev.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
}
