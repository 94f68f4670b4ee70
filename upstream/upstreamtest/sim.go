package upstreamtest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
	"golang.org/x/crypto/bcrypt"

	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
)

// Sim is an nhisim running in the test process on a loopback port.
type Sim struct {
	URL      string
	Server   *server.Server
	Identity *age.X25519Identity
	// Recipient is the identity's public key, for kiosks' outboxes.
	Recipient string
	DBPath    string
}

// Start runs a Server in process: a fresh database under t.TempDir()
// (unless o.DBPath is set), a new age identity (unless o.Identity is
// set), the cheapest bcrypt cost, the simulated card authentication
// (unless o.CardAuth or o.CardModule say otherwise: a client then needs
// proofs, e.g. with CardProver: Genuine), plain HTTP on 127.0.0.1, or TLS
// when tc is non-nil. Everything stops at the end of the test.
func Start(t testing.TB, o server.Options, tc *tls.Config) *Sim {
	t.Helper()
	if o.DBPath == "" {
		o.DBPath = filepath.Join(t.TempDir(), "nhisim.db")
	}
	if o.Identity == nil {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		o.Identity = id
	}
	if o.PasswordCost == 0 {
		o.PasswordCost = bcrypt.MinCost
	}
	if o.Mailer == nil && o.DevOut == nil {
		o.DevOut = io.Discard // dev mode: e-mails are printed, here to nowhere
	}
	if o.CardAuth == "" && o.CardModule == nil {
		o.CardAuth = server.CardAuthSim
	}
	srv, err := server.New(o)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http"
	if tc != nil {
		ln, scheme = tls.NewListener(ln, tc), "https"
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second, ErrorLog: nil}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { srv.Run(ctx); done <- struct{}{} }()
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
		done <- struct{}{}
	}()
	t.Cleanup(func() {
		cancel()
		hs.Close()
		<-done
		<-done
		srv.Close()
	})
	return &Sim{URL: fmt.Sprintf("%s://%s", scheme, ln.Addr()), Server: srv, Identity: o.Identity,
		Recipient: o.Identity.Recipient().String(), DBPath: o.DBPath}
}

// Person returns a registration of an obviously fake person, number n,
// that passes every rule and lives in the built-in division list (連江縣
// 南竿鄉 介壽村, by code): card number
// 0000000000nn, a valid ID number starting A1, e-mail testNN@example.com.
func Person(n int) upstream.Registration {
	return upstream.Registration{
		CardNumber: fmt.Sprintf("%012d", 900000000000+n),
		IDNumber:   IDNumber(n),
		Name:       "測試" + fmt.Sprint(n),
		BirthDate:  "1980-01-02",
		Household: upstream.Household{Number: "F1234567", CountyCode: "09007", TownshipCode: "09007010",
			VillageCode: "09007010001", Neighbourhood: 3},
		Password: "Test1!pw",
		Contact: upstream.Contact{
			Phone:  upstream.Phone{AreaCode: "02", Number: "23456789"},
			Mobile: "0912345678", Email: fmt.Sprintf("test%d@example.com", n),
		},
		TermsVersion: server.DefaultTerms().Version,
		KioskID:      "test-1",
	}
}

// IDNumber returns a valid national ID number A1nnnnnnn? for n, with the
// check digit computed (so every n gives a distinct valid number).
func IDNumber(n int) string {
	body := fmt.Sprintf("A1%07d", n%10_000_000)
	// A=10: 1*1 + 0*9; then the second character weighs 8, the rest 7..1.
	sum := 1 + 0*9
	w := 8
	for i := 1; i < 9; i++ {
		sum += int(body[i]-'0') * w
		w--
	}
	return body + fmt.Sprint((10-sum%10)%10)
}
