//go:build !cgo || noglfw

package glfwscreen

import (
	"testing"

	"github.com/nhikiosk/nhikiosk/internal/itest"
)

// TestGLFW stands for this package's integration tests in a build that
// leaves GLFW out: it says why they did not run (and fails in CI).
func TestGLFW(t *testing.T) {
	itest.Missing(t, "GLFW is not in this build (no cgo, or the noglfw tag because the X11/OpenGL headers are missing)")
}
