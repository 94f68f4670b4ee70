package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/internal/itest"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// nhisimBinary builds this command once per test run.
func nhisimBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nhisim-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "nhisim")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a running nhisim.
type proc struct {
	url    string
	cmd    *exec.Cmd
	mu     sync.Mutex
	stdout strings.Builder
	stderr strings.Builder
}

func (p *proc) out() string { p.mu.Lock(); defer p.mu.Unlock(); return p.stdout.String() }

func (p *proc) log() string { p.mu.Lock(); defer p.mu.Unlock(); return p.stderr.String() }

var urlRE = regexp.MustCompile(`url=(\S+)`)

// start runs nhisim with args and waits for its "serving" line.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(nhisimBinary(t), args...)}
	stderr, _ := p.cmd.StderrPipe()
	stdout, _ := p.cmd.StdoutPipe()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := stdout.Read(b)
			p.mu.Lock()
			p.stdout.Write(b[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	urls := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(s.Text() + "\n")
			p.mu.Unlock()
			if m := urlRE.FindStringSubmatch(s.Text()); m != nil && strings.Contains(s.Text(), "nhisim serving") {
				urls <- m[1]
			}
		}
		close(urls)
	}()
	t.Cleanup(func() { p.stop() })
	select {
	case u, ok := <-urls:
		if !ok {
			t.Fatalf("nhisim exited before serving: %v", p.cmd.Wait())
		}
		p.url = u
	case <-time.After(30 * time.Second):
		t.Fatal("nhisim did not start within 30s")
	}
	return p
}

func (p *proc) stop() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
	}
}

func runID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// e2e is nhisim over mutual TLS with its e-mail going to Mailpit.
type e2e struct {
	mp     upstreamtest.Mailpit
	c      *upstream.Client
	run    string
	args   []string
	nhisim *proc
	cfg    config.Config
	ca     *upstreamtest.CA // issues kiosk and phone certificates
	id     *age.X25519Identity
}

// mailpitSMTP is the real Mailpit's SMTP address.
func mailpitSMTP(t *testing.T) string {
	return itest.Env(t, "NHIKIOSK_SMTP_ADDR", "Mailpit (SMTP catcher)")
}

func newE2E(t *testing.T) *e2e { return newE2EWith(t, "") }

// newE2EWith is newE2E with nhisim mailing to smtp (empty: Mailpit) and
// given extra flags.
func newE2EWith(t *testing.T, smtp string, extra ...string) *e2e {
	if smtp == "" {
		smtp = mailpitSMTP(t)
	}
	api := itest.Env(t, "NHIKIOSK_MAILPIT_API", "Mailpit (SMTP catcher)")
	ca := upstreamtest.NewCA(t, "kiosks")
	srv := ca.Server(t)
	dir := t.TempDir()
	id, _ := age.GenerateX25519Identity()
	idFile := filepath.Join(dir, "nhisim.agekey")
	if err := os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &e2e{mp: upstreamtest.Mailpit{API: api}, run: runID(), ca: ca, id: id}
	e.args = append([]string{"-listen", "127.0.0.1:0", "-db", filepath.Join(dir, "nhisim.db"), "-smtp", smtp,
		"-age-identity", idFile, "-tls-cert", srv.CertFile, "-tls-key", srv.KeyFile, "-client-ca", ca.PEMFile}, extra...)
	e.nhisim = start(t, e.args...)
	kiosk := ca.Client(t, "kiosk-e2e")
	e.cfg = config.Default()
	e.cfg.DataDir = dir
	e.cfg.Upstream = config.Upstream{URL: e.nhisim.url, ClientCertFile: kiosk.CertFile, ClientKeyFile: kiosk.KeyFile,
		CAFile: ca.PEMFile, AgeRecipient: id.Recipient().String(), Timeout: config.Duration(10 * time.Second)}
	var err error
	if e.c, err = upstream.FromConfig(e.cfg, nil); err != nil {
		t.Fatal(err)
	}
	e.c = e.c.WithCardProver(upstreamtest.Genuine) // nhisim authenticates cards (sim) by default
	return e
}

// person is a fake person with an e-mail address unique to this run.
func (e *e2e) person(n int) upstream.Registration {
	p := upstreamtest.Person(n)
	p.Contact.Email = fmt.Sprintf("e2e-%s-%d@example.com", e.run, n)
	return p
}

func (e *e2e) code(t *testing.T, p upstream.Registration, n int) string {
	t.Helper()
	return upstreamtest.CodeIn(t, e.mp.Wait(t, p.Contact.Email, n).Text)
}

func wantErr(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var ue *upstream.Error
	if !errors.As(err, &ue) || ue.Status != status || ue.Code != code {
		t.Fatalf("%s = %v, want %d %s", what, err, status, code)
	}
}

func upstreamCode(t *testing.T, body string) string { t.Helper(); return upstreamtest.CodeIn(t, body) }

func upstreamPerson(n int) upstream.Registration { return upstreamtest.Person(n) }

func sleepTick() { time.Sleep(20 * time.Millisecond) }

// otherCode returns a 6-digit code different from code.
func otherCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func fieldList(f []upstream.FieldError) string {
	var s []string
	for _, x := range f {
		s = append(s, x.Field+":"+x.Code)
	}
	return strings.Join(s, " ")
}

// encrypt is what the outbox sends: the registration's JSON encrypted to
// the upstream's recipient.
func encrypt(t *testing.T, recipient string, r upstream.Registration) []byte {
	t.Helper()
	rc, err := age.ParseX25519Recipient(recipient)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := age.Encrypt(&buf, rc)
	json.NewEncoder(w).Encode(r)
	w.Close()
	return buf.Bytes()
}
