//go:build linux

package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNoCoreDumps: the kiosk program, before anything else, stops its
// process from dumping core (RLIMIT_CORE 0) and from being dumpable
// (PR_SET_DUMPABLE 0), so a person's data in its memory never lands in a
// core file (issue 13). A child runs runContext as main does, on a
// missing configuration, and reports its own state.
func TestNoCoreDumps(t *testing.T) {
	if os.Getenv("KIOSK_COREDUMP_CHILD") != "" {
		runContext(context.Background(), []string{"-config-dir", t.TempDir()}, io.Discard, io.Discard)
		d, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		var lim unix.Rlimit
		unix.Getrlimit(unix.RLIMIT_CORE, &lim)
		if d != 0 || lim.Cur != 0 || lim.Max != 0 {
			t.Fatalf("dumpable %d, core limit %d/%d", d, lim.Cur, lim.Max)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoCoreDumps$", "-test.v")
	cmd.Env = append(os.Environ(), "KIOSK_COREDUMP_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestNoCoreDumps") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
