package upstream_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// The kill test runs the outbox in a child process (this test binary,
// re-run with -test.run=TestKillChild) and SIGKILLs it at the k-th crash
// point, for every k until a run passes the last one; after each kill a
// recovery child (itself killed once more at another point) and a clean
// one finish the work. The in-process nhisim must then hold every
// registration exactly once: none lost, none registered twice.
const (
	killEnv       = "NHIKIOSK_KILLTEST"
	killPeople    = 3
	killPointsMax = 200
)

func TestOutboxSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("re-runs the test binary many times")
	}
	// About crashes of the outbox: registrations without card proofs (a
	// proof is a part of the body like any other).
	sim := upstreamtest.Start(t, server.Options{CardAuth: server.CardAuthOff}, nil)
	kills, total := 0, 0
	for k := 1; k <= killPointsMax; k++ {
		dir := t.TempDir()
		base := 1000 * k
		killed := runChild(t, sim, dir, base, k)
		if !killed {
			total = k - 1
			if runChild(t, sim, dir, base, 0) {
				t.Fatal("the clean run was killed")
			}
			checkExactlyOnce(t, sim, dir, base)
			break
		}
		kills++
		// The recovery run is killed too, at a later point of its own.
		if runChild(t, sim, dir, base, 1+(k*7)%(killPeople*8)) {
			kills++
		}
		if runChild(t, sim, dir, base, 0) {
			t.Fatalf("scenario %d: the clean run was killed", k)
		}
		checkExactlyOnce(t, sim, dir, base)
	}
	if total == 0 {
		t.Fatalf("ran out of kill points at %d", killPointsMax)
	}
	s := sim.Server.Stats()
	t.Logf("kill points per run: %d; processes killed: %d; created %d, replayed %d, conflicts %d", total, kills, s.Created, s.Replayed, s.Conflicts)
	if s.Conflicts != 0 {
		t.Errorf("%d registrations reached the server twice under different keys", s.Conflicts)
	}
	// total killed scenarios plus the last one, which ran to the end.
	if want := int64((total + 1) * killPeople); s.Created != want {
		t.Errorf("created %d registrations over %d scenarios of %d people, want %d", s.Created, total+1, killPeople, want)
	}
}

// runChild runs one child and reports whether it was killed.
func runChild(t *testing.T, sim *upstreamtest.Sim, dir string, base, killAt int) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killEnv+"=1", "KILL_URL="+sim.URL, "KILL_RCPT="+sim.Recipient,
		"KILL_DIR="+dir, "KILL_BASE="+strconv.Itoa(base), "KILL_AT="+strconv.Itoa(killAt))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
	}
	if err != nil {
		t.Fatalf("child (kill at %d) failed: %v\n%s", killAt, err, out)
	}
	return false
}

// checkExactlyOnce checks the scenario's people are each registered once
// and its outbox is empty.
func checkExactlyOnce(t *testing.T, sim *upstreamtest.Sim, dir string, base int) {
	t.Helper()
	ob, err := upstream.OpenOutbox(filepath.Join(dir, "outbox"), sim.Recipient, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := ob.Len(); n != 0 {
		t.Errorf("scenario %d: %d entries left in the outbox", base, n)
	}
	c := upstream.New(upstream.Options{BaseURL: sim.URL, Attempts: 1})
	for i := range killPeople {
		p := upstreamtest.Person(base + i)
		// A pending registration answers resend; an absent one 404.
		if err := c.Resend(context.Background(), p.CardNumber, p.IDNumber); err != nil {
			t.Errorf("scenario %d person %d: %v (lost?)", base, i, err)
		}
	}
}

// TestKillChild is the child: it sends what is queued, then queues and
// sends each person not yet acknowledged, recording acknowledgements in a
// file. A person whose Enqueue did not return is queued again under the
// same key (the kiosk keeps a session's key), so nothing is ever sent
// under two keys.
func TestKillChild(t *testing.T) {
	if os.Getenv(killEnv) != "1" {
		t.Skip("child of TestOutboxSurvivesKills")
	}
	dir := os.Getenv("KILL_DIR")
	base, _ := strconv.Atoi(os.Getenv("KILL_BASE"))
	killAt, _ := strconv.Atoi(os.Getenv("KILL_AT"))
	ob, err := upstream.OpenOutbox(filepath.Join(dir, "outbox"), os.Getenv("KILL_RCPT"), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	upstream.SetKillPoint(ob, func(string) {
		if n++; n == killAt {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	})
	c := upstream.New(upstream.Options{BaseURL: os.Getenv("KILL_URL"), Attempts: 1, Outbox: ob})
	ctx := context.Background()
	if err := ob.Flush(ctx, c.SendQueued); err != nil {
		t.Fatal(err)
	}
	acks := filepath.Join(dir, "acks")
	for i := acked(acks); i < killPeople; i++ {
		key := fmt.Sprintf("kill-%d-%d", base, i)
		if err := ob.Enqueue(key, mustJSON(t, upstreamtest.Person(base+i))); err != nil {
			t.Fatal(err)
		}
		appendAck(t, acks, i)
		if err := ob.Flush(ctx, c.SendQueued); err != nil {
			t.Fatal(err)
		}
	}
}

func acked(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	for s := bufio.NewScanner(f); s.Scan(); {
		n++
	}
	return n
}

func appendAck(t *testing.T, path string, i int) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, i)
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}
