package main

import (
	"context"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/appliance/appliancetest"
	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/internal/itest"
	"github.com/nhikiosk/nhikiosk/internal/itest/chromium"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
)

// TestDemoChoosesDisplay: the demo opens a window where there is a
// display, a web page where there is none, and what -set chose anyway.
func TestDemoChoosesDisplay(t *testing.T) {
	tests := []struct {
		name    string
		display string
		sets    []string
		want    string
	}{
		{"no display", "", nil, config.DisplayWeb},
		{"X11", ":0", nil, map[bool]string{true: config.DisplayGLFW, false: config.DisplayWeb}[haveGLFW]},
		{"chosen window", "", []string{"display.backend=glfw"}, config.DisplayGLFW},
		{"chosen web", ":0", []string{"display.backend=web"}, config.DisplayWeb},
		{"chosen headless", "", []string{"display.backend=headless"}, config.DisplayHeadless},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DISPLAY", tt.display)
			t.Setenv("WAYLAND_DISPLAY", "")
			cfg, err := loadConfig(options{demo: true, sets: tt.sets})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Display.Backend != tt.want {
				t.Errorf("display.backend = %s, want %s", cfg.Display.Backend, tt.want)
			}
		})
	}
	t.Run("not the demo", func(t *testing.T) {
		t.Setenv("DISPLAY", "")
		o := options{configDir: goodDir(t), sets: []string{"display.backend=glfw"}}
		if cfg, err := loadConfig(o); err != nil || cfg.Display.Backend != config.DisplayGLFW {
			t.Errorf("a kiosk's configured backend changed: %s, %v", cfg.Display.Backend, err)
		}
	})
}

// TestDemoWeb runs `kiosk -demo` as a newcomer over SSH would, with no
// display, and uses its page in headless Chromium: the page shows the
// attract screen exactly as the headless backend draws it, the page's
// strip inserts the virtual card, a tap on "Register" in the page brings
// the terms screen (again as the headless backend draws it).
func TestDemoWeb(t *testing.T) {
	itest.File(t, config.DebianFont, "fonts-noto-cjk")
	size := image.Pt(1280, 800) // the demo's panel
	ref := appliancetest.New(t, appliancetest.Options{Size: size})
	bin := filepath.Join(t.TempDir(), "kiosk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build the kiosk: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	var stdout, stderr lockedBuffer
	cmd := exec.CommandContext(ctx, bin, "-demo", "-set", "display.web_listen=127.0.0.1:0")
	cmd.Env = slices.DeleteFunc(os.Environ(), func(v string) bool {
		return strings.HasPrefix(v, "DISPLAY=") || strings.HasPrefix(v, "WAYLAND_DISPLAY=")
	})
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cancel()
	waitFor := func(what string, in *lockedBuffer) {
		t.Helper()
		for !strings.Contains(in.String(), what) {
			if ctx.Err() != nil {
				t.Fatalf("no %q from the demo:\n%s\n%s", what, stdout.String(), stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("nhikiosk demo", &stdout)
	m := regexp.MustCompile(`the kiosk's screen is at (http://127\.0\.0\.1:\d+/): open it in a browser`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("the demo printed no URL:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), `"display":"web"`) {
		t.Errorf("the demo did not log that it chose the web display:\n%s", stderr.String())
	}

	browser := chromium.New(t, size.X, size.Y+52)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(browser, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(c, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	same := func(what string) {
		t.Helper()
		if err := chromium.WaitCanvas(browser, "screen", ref.Harness.Screen.Frame(), 10*time.Second); err != nil {
			t.Fatalf("%s: the page is not the headless backend's frame: %v", what, err)
		}
	}
	// The viewport is the panel and the strip under it: the panel at 1:1.
	do("open the page", chromedp.EmulateViewport(int64(size.X), int64(size.Y+52)), chromedp.Navigate(m[1]))
	pctx, pcancel := context.WithTimeout(browser, 20*time.Second)
	defer pcancel()
	if _, err := chromedp.Run(pctx, chromedp.Poll[bool](`window.kiosk && kiosk.connected && kiosk.frames > 0`)); err != nil {
		t.Fatalf("the page did not connect: %v", err)
	}
	ref.Want(appliance.ScreenAttract)
	same("attract screen")
	attract := ref.Harness.Screen.Frame()

	do("insert the card from the page", chromedp.Click(chromedp.CSS(`#control-insert`)))
	waitFor(`"step":"menu"`, &stderr)
	ref.Insert()
	ref.Want(appliance.ScreenMenu)

	// Tap "Register" where the headless backend has it, scaled to where
	// the page shows the panel.
	b := ref.Find(appliance.IDRegister).Bounds()
	r, err := chromedp.Run(browser, chromedp.Evaluate[[]float64](
		`(r => [r.left, r.top, r.width, r.height])(document.getElementById("screen").getBoundingClientRect())`))
	if err != nil {
		t.Fatal(err)
	}
	x := r[0] + float64(b.Min.X+b.Max.X)/2*r[2]/float64(size.X)
	y := r[1] + float64(b.Min.Y+b.Max.Y)/2*r[3]/float64(size.Y)
	do("tap Register", chromedp.TapXY(x, y))
	waitFor(`"step":"terms"`, &stderr)
	ref.Tap(appliance.IDRegister)
	ref.Want(appliance.ScreenTerms)
	if chromium.Differ(attract, ref.Harness.Screen.Frame()) == 0 {
		t.Fatal("the attract and terms screens are the same picture: comparing with them proves nothing")
	}
	same("terms screen")
	lat, err := chromedp.Run(browser, chromedp.Evaluate[[]float64](`kiosk.latencies`))
	if err != nil || len(lat) == 0 {
		t.Fatalf("no latencies measured by the page: %v", err)
	}
	// The last input is the tap's release: the time to the first batch
	// drawn after it, the new screen.
	t.Logf("tap on Register to the terms screen drawn in the page: %.1f ms (the page's own clock)", lat[len(lat)-1])

	do("pull the card from the page", chromedp.Click(chromedp.CSS(`#control-pull`)))
	waitFor(`"reason":"card_removed"`, &stderr)
	cancel()
	cmd.Wait()
	if strings.Contains(stderr.String(), readertest.TestOne.IDNumber) || strings.Contains(stderr.String(), "測試一") {
		t.Errorf("the demo's log holds the test person's data")
	}
}
