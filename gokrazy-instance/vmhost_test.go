package instance

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// guestHost is the host as a QEMU guest on user networking sees it: its
// connections to 10.0.2.2 reach the host's loopback (restrict=off).
var guestHost = net.IPv4(10, 0, 2, 2)

// hostSim is the real nhisim binary on the host, with mutual TLS (a
// throwaway CA, a server certificate valid for 10.0.2.2, the kiosk's
// client certificate) and its e-mails going to Mailpit.
type hostSim struct {
	Port      string
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

// startNhisim builds cmd/nhisim and runs it on 127.0.0.1 with TLS,
// client certificates for kiosk, and SMTP to smtp (Mailpit).
func startNhisim(t *testing.T, dir, kiosk, smtp string) *hostSim {
	t.Helper()
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
	s := &hostSim{CA: upstreamtest.NewCA(t, "vmtest"), Recipient: id.Recipient().String(), log: &lockedBuffer{}}
	server := s.CA.ServerFor(t, guestHost)
	s.Kiosk = s.CA.Client(t, kiosk)
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-db", filepath.Join(dir, "nhisim.db"),
		"-smtp", smtp, "-age-identity", idFile, "-tls-cert", server.CertFile, "-tls-key", server.KeyFile,
		"-client-ca", s.CA.PEMFile)
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

// Client is an upstream client on the host with the kiosk's certificate,
// to look at the account as nhisim keeps it.
func (s *hostSim) Client(t *testing.T) *upstream.Client {
	t.Helper()
	hc, err := upstream.HTTPClient(config.Upstream{URL: "https://127.0.0.1:" + s.Port,
		ClientCertFile: s.Kiosk.CertFile, ClientKeyFile: s.Kiosk.KeyFile, CAFile: s.CA.PEMFile,
		Timeout: config.Duration(10 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	return upstream.New(upstream.Options{BaseURL: "https://127.0.0.1:" + s.Port, HTTPClient: hc, Attempts: 2,
		Backoff: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		CardProver: upstreamtest.Genuine}) // nhisim authenticates cards (sim)
}

// guestLog follows what the kiosk in the guest logs: gokrazy keeps each
// service's last lines and streams them on its web interface (forwarded
// to the host), so one connection made early and kept open sees every
// line. The kiosk never logs personal data.
type guestLog struct {
	web string
	buf lockedBuffer
}

// followKioskLog connects (retrying until gokrazy's web interface and the
// kiosk service are up) and collects until the test ends.
func followKioskLog(t *testing.T, web string) *guestLog {
	g := &guestLog{web: web}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
				fmt.Sprintf("http://%s/log?path=/user/kiosk&stream=both", web), nil)
			req.SetBasicAuth("gokrazy", vmPassword)
			resp, err := http.DefaultClient.Do(req)
			if err == nil && resp.StatusCode == http.StatusOK {
				io.Copy(&g.buf, resp.Body) // until the test ends
			}
			if err == nil {
				resp.Body.Close()
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return g
}

// String returns every line the kiosk logged so far.
func (g *guestLog) String() string { return g.buf.String() }

// wait waits until the log has n lines containing s and returns the log.
func (g *guestLog) wait(t *testing.T, s string, n int, d time.Duration) string {
	t.Helper()
	var log string
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if log = g.String(); strings.Count(log, s) >= n {
			return log
		}
	}
	t.Fatalf("the kiosk did not log %q %d times within %v; its log:\n%s", s, n, d, log)
	return ""
}

// staffKey is a throwaway SSH key for breakglass.
func staffKey(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startBreakglass starts breakglass the way docs/appliance.md says:
// gokrazy's status page hands out an XSRF cookie, and a POST to /restart
// with it starts the service.
func startBreakglass(t *testing.T, web string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	do := func(req *http.Request) {
		t.Helper()
		req.SetBasicAuth("gokrazy", vmPassword)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("gokrazy %s: %v", req.URL.Path, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK { // /restart redirects to /status
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("gokrazy %s: %s: %s", req.URL.Path, resp.Status, b)
		}
	}
	base := "http://" + web
	req, _ := http.NewRequest(http.MethodGet, base+"/status?path=/user/breakglass", nil)
	do(req)
	u, _ := url.Parse(base)
	token := ""
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "gokrazy_xsrf" {
			token = ck.Value
		}
	}
	if token == "" {
		t.Fatal("gokrazy's status page set no gokrazy_xsrf cookie")
	}
	form := url.Values{"path": {"/user/breakglass"}, "xsrftoken": {token}}
	req, _ = http.NewRequest(http.MethodPost, base+"/restart", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	do(req)
}

// sshIn logs in to breakglass with key, retrying while it starts.
func sshIn(t *testing.T, addr string, key ssh.Signer) {
	t.Helper()
	cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(key)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 20 * time.Second}
	var err error
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		var c *ssh.Client
		if c, err = ssh.Dial("tcp", addr, cfg); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("breakglass did not let the key from /perm in: %v", err)
}
