package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhikiosk/nhikiosk/internal/itest"
	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/pcsc"
)

// The binary itself: one line on stderr and the exit status of the error.
// A reader pcscd does not have is "no reader" whether pcscd runs or not.
func TestBinaryNoReader(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if !pcsc.Built {
		itest.Missing(t, "nhicard is built without PC/SC (no cgo, or the nopcsc tag because libpcsclite-dev is missing)")
	}
	bin := filepath.Join(t.TempDir(), "nhicard")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "read", "--json", "--reader", "No Such Reader 99 99", "--timeout", "1s")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitCode(reader.ErrNoReader) {
		t.Fatalf("nhicard read = %v, want exit status %d", err, exitCode(reader.ErrNoReader))
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "nhicard: no card reader found") {
		t.Errorf("stderr = %q, want one line starting %q", stderr.String(), "nhicard: no card reader found")
	}
}
