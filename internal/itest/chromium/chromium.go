// Package chromium starts headless Chromium for integration tests that
// drive a web page the project serves (fleetd's dashboard, the kiosk's web
// display). It is for tests only.
//
// Chromium is the Debian package chromium (CI installs it from
// .ci/packages/fleet.txt). Without it the test is skipped, or failed under
// NHIKIOSK_REQUIRE_INTEGRATION=1, through itest.
package chromium

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"strconv"
	"strings"
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

// Canvas reads back the pixels of the canvas element with id, as the page
// holds them (PNG through toDataURL: lossless).
func Canvas(ctx context.Context, id string) (*image.RGBA, error) {
	url, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById(`+strconv.Quote(id)+`).toDataURL("image/png")`))
	if err != nil {
		return nil, fmt.Errorf("read canvas %s: %w", id, err)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(url, "data:image/png;base64,"))
	if err != nil {
		return nil, fmt.Errorf("read canvas %s: %w", id, err)
	}
	return DecodePNG(b)
}

// DecodePNG decodes a PNG (a canvas, a screenshot) into RGBA.
func DecodePNG(b []byte) (*image.RGBA, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	rgba := image.NewRGBA(img.Bounds().Sub(img.Bounds().Min))
	draw.Draw(rgba, rgba.Rect, img, img.Bounds().Min, draw.Src)
	return rgba, nil
}

// Differ counts the pixels in which a and b differ (all of them when
// their sizes differ).
func Differ(a, b *image.RGBA) int {
	if a.Rect.Size() != b.Rect.Size() {
		return max(a.Rect.Dx()*a.Rect.Dy(), b.Rect.Dx()*b.Rect.Dy())
	}
	n := 0
	for y := range a.Rect.Dy() {
		for x := range a.Rect.Dx() {
			i, j := a.PixOffset(a.Rect.Min.X+x, a.Rect.Min.Y+y), b.PixOffset(b.Rect.Min.X+x, b.Rect.Min.Y+y)
			if !bytes.Equal(a.Pix[i:i+4], b.Pix[j:j+4]) {
				n++
			}
		}
	}
	return n
}

// WaitCanvas waits up to timeout until the canvas with id equals want,
// pixel for pixel, and otherwise returns how many pixels still differ.
func WaitCanvas(ctx context.Context, id string, want *image.RGBA, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		got, err := Canvas(ctx, id)
		if err != nil {
			return err
		}
		n := Differ(got, want)
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d pixels of canvas %s differ after %v", n, id, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
