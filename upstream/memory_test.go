package upstream_test

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// TestNoPasswordCopiesAfterRequests is issue 13's "five copies of the
// password and the whole registration as JSON remain readable after the
// wipe": a kiosk process (this test binary, re-run as a child) registers
// a person and changes a password through the real client, over mutual
// TLS to an nhisim in this process, queues another person's registration
// in its outbox while the upstream is away, zeroes its own bytes as the
// wizard does, and then searches its whole memory (/proc/self/mem) for
// the passwords. Whatever the client encoded must be gone.
func TestNoPasswordCopiesAfterRequests(t *testing.T) {
	if os.Getenv("NHIKIOSK_MEMCHILD") != "" {
		memChild(t)
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/mem")
	}
	ca := upstreamtest.NewCA(t, "mem")
	srv := ca.Server(t)
	tc, err := server.TLSConfig(srv.CertFile, srv.KeyFile, ca.PEMFile)
	if err != nil {
		t.Fatal(err)
	}
	box := upstreamtest.NewMailbox()
	sim := upstreamtest.Start(t, server.Options{Mailer: box}, tc)
	kiosk := ca.Client(t, "kiosk-mem")
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoPasswordCopiesAfterRequests$", "-test.v")
	cmd.Env = append(os.Environ(), "NHIKIOSK_MEMCHILD=1", "MEM_URL="+sim.URL, "MEM_CERT="+kiosk.CertFile,
		"MEM_KEY="+kiosk.KeyFile, "MEM_CA="+ca.PEMFile, "MEM_RCPT="+sim.Recipient, "MEM_DEAD="+deadURL(t))
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The passwords exist only in this process and as bytes the child
	// reads from a pipe: never in its arguments, environment or binary.
	p := upstreamtest.Person(61)
	fmt.Fprintf(in, "%s\n%s\n%s\n", randomPassword(), randomPassword(), randomPassword())
	// The child registers, then waits for the confirmation code.
	fmt.Fprintf(in, "%s\n", box.WaitCode(t, p.Contact.Email, 1))
	in.Close()
	var found []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "COPIES "); ok && k == "" {
			found = append(found, v)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if len(found) != 3 {
		t.Fatalf("the child reported %q, want the copies of three passwords", found)
	}
	for i, v := range found {
		if n, _ := strconv.Atoi(v); n != 0 {
			t.Errorf("password %d: %d copies left in the kiosk process's memory after the requests, want 0", i+1, n)
		}
	}
}

// memChild is the kiosk process: it reads three passwords from stdin
// into byte slices, registers with the first (the client sees it as a
// string over those bytes, as the wizard's fields are), confirms, logs in
// and changes it to the second, queues a registration with the third
// while the upstream is away, zeroes the slices and counts what is left.
func memChild(t *testing.T) {
	rd := bufio.NewReader(os.Stdin)
	pw1, pw2, pw3 := readSecret(t, rd), readSecret(t, rd), readSecret(t, rd)
	hc, err := upstream.HTTPClient(config.Upstream{URL: os.Getenv("MEM_URL"), ClientCertFile: os.Getenv("MEM_CERT"),
		ClientKeyFile: os.Getenv("MEM_KEY"), CAFile: os.Getenv("MEM_CA"), Timeout: config.Duration(10 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	c := upstream.New(upstream.Options{BaseURL: os.Getenv("MEM_URL"), HTTPClient: hc, Attempts: 1, CardProver: upstreamtest.Genuine})
	ctx := context.Background()
	p := upstreamtest.Person(61)
	p.Password = unsafe.String(&pw1[0], len(pw1))
	if _, err := c.Register(ctx, p); err != nil {
		t.Fatal(err)
	}
	code, _ := rd.ReadString('\n')
	if err := c.Verify(ctx, p.CardNumber, p.IDNumber, strings.TrimSpace(code)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Login(ctx, p.CardNumber, p.IDNumber, p.Password)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ChangePassword(ctx, p.Password, unsafe.String(&pw2[0], len(pw2))); err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	hc.CloseIdleConnections()
	ob, err := upstream.OpenOutbox(t.TempDir(), os.Getenv("MEM_RCPT"), nil)
	if err != nil {
		t.Fatal(err)
	}
	away := upstream.New(upstream.Options{BaseURL: os.Getenv("MEM_DEAD"), Attempts: 1, Outbox: ob})
	q := upstreamtest.Person(62)
	// The card was checked while the upstream was there (issue 24).
	if q.CardAuth, err = upstreamtest.Genuine(ctx, c, upstream.PurposeRegistration, q.CardNumber, q.IDNumber); err != nil {
		t.Fatal(err)
	}
	q.Password = unsafe.String(&pw3[0], len(pw3))
	if res, err := away.Register(ctx, q); err != nil || !res.Queued {
		t.Fatalf("Register while away = %+v, %v; want queued", res, err)
	}
	// The wizard's wipe: its own bytes are zeroed.
	masks := [][2][]byte{mask(pw1), mask(pw2), mask(pw3)}
	clear(pw1)
	clear(pw2)
	clear(pw3)
	p.Password, q.Password = "", ""
	runtime.GC()
	for _, m := range masks {
		fmt.Printf("COPIES %d\n", countInMemory(t, m[0], m[1]))
	}
}

// randomPassword makes a password at run time: a literal would be in the
// test binary, which the child maps too.
func randomPassword() string {
	const alnum = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := []byte("Aa1!")
	r := make([]byte, 6)
	crand.Read(r)
	for _, c := range r {
		b = append(b, alnum[int(c)%len(alnum)])
	}
	return string(b)
}

// readSecret reads one line from r into a fresh slice, without a copy
// in any string.
func readSecret(t *testing.T, r *bufio.Reader) []byte {
	line, err := r.ReadSlice('\n')
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, len(line)-1)
	copy(b, line)
	clear(line) // the bufio buffer
	return b
}

// mask returns the secret XORed with a random mask, and the mask: the
// search needs neither to hold the secret itself.
func mask(s []byte) [2][]byte {
	m := make([]byte, len(s))
	for i := range m {
		m[i] = byte(0x55 + 31*i)
	}
	x := make([]byte, len(s))
	for i := range s {
		x[i] = s[i] ^ m[i]
	}
	return [2][]byte{x, m}
}

// countInMemory counts the places in this process's readable memory
// that hold the masked secret.
func countInMemory(t *testing.T, masked, m []byte) int {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	buf := make([]byte, 1<<20)
	n := 0
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[1][0] != 'r' || strings.Contains(line, "[vvar]") || strings.Contains(line, "[vsyscall]") {
			continue
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		start, _ := strconv.ParseUint(lo, 16, 64)
		end, _ := strconv.ParseUint(hi, 16, 64)
		for off := start; off < end; off += uint64(len(buf) - len(m)) {
			k, err := mem.ReadAt(buf[:min(uint64(len(buf)), end-off)], int64(off))
			if k == 0 && err != nil && err != io.EOF {
				break
			}
			n += countMasked(buf[:k], masked, m)
			clear(buf[:k])
		}
	}
	return n
}

func countMasked(hay, masked, m []byte) int {
	n := 0
	first := masked[0] ^ m[0]
	for i := 0; i+len(m) <= len(hay); i++ {
		if hay[i] != first {
			continue
		}
		j := 1
		for j < len(m) && hay[i+j]^m[j] == masked[j] {
			j++
		}
		if j == len(m) {
			n++
		}
	}
	return n
}
