package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display/glfwscreen"
	"github.com/nhikiosk/nhikiosk/internal/itest"
)

// TestDemoWindow runs `kiosk -demo` as a newcomer would, in a GLFW window
// on the Xvfb that scripts/test.sh starts, and uses it with xdotool: the
// developer strip inserts the virtual card, the menu starts the
// registration, the strip pulls the card.
func TestDemoWindow(t *testing.T) {
	if !glfwscreen.Built {
		itest.Missing(t, "the kiosk is built without GLFW (no cgo, or the noglfw tag because the X11/OpenGL headers are missing)")
	}
	disp := itest.Env(t, "NHIKIOSK_XVFB_DISPLAY", "Xvfb")
	xdotool := itest.Command(t, "xdotool", "xdotool")
	itest.File(t, config.DebianFont, "fonts-noto-cjk")
	bin := filepath.Join(t.TempDir(), "kiosk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build the kiosk: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var stdout, stderr lockedBuffer
	cmd := exec.CommandContext(ctx, bin, "-demo")
	cmd.Env = append(os.Environ(), "DISPLAY="+disp)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, in *lockedBuffer) {
		t.Helper()
		for !strings.Contains(in.String(), what) {
			if ctx.Err() != nil {
				t.Fatalf("no %q from the demo:\n%s\n%s", what, stdout.String(), stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("nhikiosk demo", &stdout)
	x := func(args ...string) *exec.Cmd {
		c := exec.Command(xdotool, args...)
		c.Env = append(os.Environ(), "DISPLAY="+disp)
		return c
	}
	var win string
	for win == "" && ctx.Err() == nil {
		out, _ := x("search", "--name", "^nhikiosk$").Output()
		win = strings.TrimSpace(strings.Split(string(out), "\n")[0])
		time.Sleep(100 * time.Millisecond)
	}
	// The demo window is 1280×800 with the strip in its bottom 50 pixels:
	// "insert card" at the left, "pull card" in the middle.
	click := func(px, py string) {
		t.Helper()
		// Other tests' windows may share the Xvfb: ours goes on top first.
		x("windowraise", win).Run()
		if out, err := x("mousemove", "--window", win, px, py, "click", "1").CombinedOutput(); err != nil {
			t.Fatalf("xdotool: %v %s", err, out)
		}
	}
	time.Sleep(300 * time.Millisecond)
	click("200", "775")
	waitFor(`"step":"menu"`, &stderr)
	click("640", "150") // the menu's first button: register
	waitFor(`"step":"terms"`, &stderr)
	click("640", "775")
	waitFor(`"reason":"card_removed"`, &stderr)
	cancel()
	cmd.Wait()
	if strings.Contains(stderr.String(), "A123456789") || strings.Contains(stderr.String(), "測試一") {
		t.Errorf("the demo's log holds the test person's data")
	}
}
