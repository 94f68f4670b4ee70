// Package chromium starts headless Chromium for integration tests that
// drive a web page the project serves (fleetd's dashboard, the kiosk's web
// display). It is for tests only.
//
// Chromium is the Debian package chromium (CI installs it from
// .ci/packages/fleet.txt). Without it the test is skipped, or failed under
// NHIKIOSK_REQUIRE_INTEGRATION=1, through itest.
package chromium

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nhikiosk/nhikiosk/internal/itest"
)

// New starts a headless Chromium with a window of width×height CSS
// pixels and a profile in a temporary directory, and returns a chromedp
// context on its first tab. The browser has started when New returns, so
// callers may derive timeouts from the context for single steps. It is
// stopped when the test ends.
//
// Call it after starting the servers the page talks to: cleanups run last
// registered first, so the browser then goes before them
// (httptest.Server.Close waits for the browser's open connections).
//
// The sandbox is off (--no-sandbox): Chromium refuses to start its sandbox
// as root, which is how CI and containers run the tests; the pages it
// opens are the test's own, on loopback.
func New(t testing.TB, width, height int) context.Context {
	t.Helper()
	chrome := itest.Command(t, "chromium", "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun, chromedp.WindowSize(width, height))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser and ties it to ctx: it must not
	// carry a timeout (it would stop the browser), so bound it from here.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start Chromium: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Chromium did not start within 60 s")
	}
	return ctx
}
