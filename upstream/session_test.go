package upstream_test

import (
	"context"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// TestLongPollBelowTimeout: a long-poll asked for 25 s on a client whose
// requests time out after 900 ms comes back as "waiting", not as a
// timeout, because the client asks the upstream for less.
func TestLongPollBelowTimeout(t *testing.T) {
	box := upstreamtest.NewMailbox()
	sim := upstreamtest.Start(t, server.Options{Mailer: box}, nil)
	c := upstream.New(upstream.Options{BaseURL: sim.URL, Timeout: 900 * time.Millisecond, Attempts: 1, CardProver: upstreamtest.Genuine})
	ctx := context.Background()
	p := upstreamtest.Person(71)
	if _, err := c.Register(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(ctx, p.CardNumber, p.IDNumber, box.WaitCode(t, p.Contact.Email, 1)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Login(ctx, p.CardNumber, p.IDNumber, p.Password)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.StartBinding(ctx, upstream.ViaScreen)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.BindingStatus(ctx, b.BindingID, 25*time.Second)
	if err != nil || st.Status != upstream.StatusWaiting {
		t.Fatalf("BindingStatus = %+v, %v; want waiting", st, err)
	}
}

// TestAccountChecksLocally: the client checks fields by the shared rules
// before sending; nothing listens at the address, so a 422 proves no
// request was made.
func TestAccountChecksLocally(t *testing.T) {
	c := upstream.New(upstream.Options{BaseURL: "http://127.0.0.1:1", Attempts: 1})
	ctx := context.Background()
	if _, err := c.Bind(ctx, "12ab5678", ""); upstream.Code(err) != upstream.ErrCodeInvalid || len(upstream.Fields(err)) != 2 {
		t.Errorf("Bind = %v, want 422 with code and device_name", err)
	}
	s := upstream.SessionOn(c, &upstream.AccountSession{})
	if _, err := s.ChangeContact(ctx, upstream.Contact{Mobile: "0912345678", Email: "not-an-address"}); upstream.Code(err) != upstream.ErrCodeInvalid {
		t.Errorf("ChangeContact = %v, want 422", err)
	}
	if err := s.ChangePassword(ctx, "Test1!pw", "Test1!pw"); upstream.Code(err) != upstream.ErrCodeInvalid {
		t.Errorf("ChangePassword same = %v, want 422", err)
	}
	if err := s.ConfirmEmail(ctx, "12"); upstream.Code(err) != upstream.ErrCodeInvalid {
		t.Errorf("ConfirmEmail = %v, want 422", err)
	}
}
