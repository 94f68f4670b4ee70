package instance

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// guestHost is the host as a QEMU guest on user networking sees it: its
// connections to 10.0.2.2 reach the host's loopback (restrict=off).
var guestHost = net.IPv4(10, 0, 2, 2)

// nhisimOptions say how startNhisim runs nhisim.
type nhisimOptions struct {
	// KioskID is the kiosk whose client certificate the CA issues.
	KioskID string
	// GuestIP is the address the guest reaches nhisim at, which the
	// server certificate names: guestHost if nil, or a guestfwd address
	// (relayTo) on a restricted network.
	GuestIP net.IP
	// SMTP, if set, is where nhisim sends its e-mails (Mailpit); without
	// it nhisim sends none.
	SMTP string
}

// hostSim is the real nhisim binary on the host's loopback, with mutual
// TLS (a throwaway CA, a server certificate for the guest's address of
// it, the kiosk's client certificate) and an age identity of its own.
type hostSim struct {
	Port      string
	KioskID   string
	GuestIP   net.IP
	CA        *upstreamtest.CA
	Kiosk     upstreamtest.Pair
	Recipient string
	log       *lockedBuffer
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var servingRE = regexp.MustCompile(`url=https://127\.0\.0\.1:(\d+)`)

// startNhisim builds cmd/nhisim and runs it on 127.0.0.1 until the test
// ends; dir holds its database, keys and binary.
func startNhisim(t *testing.T, dir string, o nhisimOptions) *hostSim {
	t.Helper()
	if o.GuestIP == nil {
		o.GuestIP = guestHost
	}
	bin := filepath.Join(dir, "nhisim")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/nhisim").CombinedOutput(); err != nil {
		t.Fatalf("go build nhisim: %v\n%s", err, out)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	idFile := filepath.Join(dir, "nhisim.agekey")
	writeFile(t, idFile, []byte(id.String()+"\n"))
	s := &hostSim{KioskID: o.KioskID, GuestIP: o.GuestIP, CA: upstreamtest.NewCA(t, "vmtest"),
		Recipient: id.Recipient().String(), log: &lockedBuffer{}}
	server := s.CA.ServerFor(t, o.GuestIP)
	s.Kiosk = s.CA.Client(t, o.KioskID)
	args := []string{"-listen", "127.0.0.1:0", "-db", filepath.Join(dir, "nhisim.db"),
		"-age-identity", idFile, "-tls-cert", server.CertFile, "-tls-key", server.KeyFile, "-client-ca", s.CA.PEMFile}
	if o.SMTP != "" {
		args = append(args, "-smtp", o.SMTP)
	}
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = s.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.log.Write([]byte(sc.Text() + "\n"))
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case port <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case s.Port = <-port:
	case <-time.After(time.Minute):
		t.Fatalf("nhisim did not start:\n%s", s.log)
	}
	return s
}

// Addr is nhisim's address on the host.
func (s *hostSim) Addr() string { return "127.0.0.1:" + s.Port }

// GuestURL is nhisim's URL for a guest on user networking with
// restrict=off (GuestIP is guestHost).
func (s *hostSim) GuestURL() string {
	return fmt.Sprintf("https://%s", net.JoinHostPort(s.GuestIP.String(), s.Port))
}

// Client is an upstream client on the host with the kiosk's certificate,
// to look at the account as nhisim keeps it.
func (s *hostSim) Client(t *testing.T) *upstream.Client {
	t.Helper()
	hc, err := upstream.HTTPClient(config.Upstream{URL: "https://" + s.Addr(),
		ClientCertFile: s.Kiosk.CertFile, ClientKeyFile: s.Kiosk.KeyFile, CAFile: s.CA.PEMFile,
		Timeout: config.Duration(10 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	return upstream.New(upstream.Options{BaseURL: "https://" + s.Addr(), HTTPClient: hc, Attempts: 2,
		Backoff: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		CardProver: upstreamtest.Genuine}) // nhisim authenticates cards (sim)
}
