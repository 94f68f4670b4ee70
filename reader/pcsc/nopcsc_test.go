//go:build !cgo || nopcsc

package pcsc

import (
	"testing"

	"github.com/nhikiosk/nhikiosk/internal/itest"
)

// TestPCSC stands for this package's integration tests in a build that
// leaves PC/SC out: it says why they did not run (and fails in CI).
func TestPCSC(t *testing.T) {
	itest.Missing(t, "PC/SC is not in this build (no cgo, or the nopcsc tag because libpcsclite-dev is missing)")
}
