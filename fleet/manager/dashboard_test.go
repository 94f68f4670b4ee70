package manager_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
	"github.com/nhikiosk/nhikiosk/fleet/manager"
	"github.com/nhikiosk/nhikiosk/internal/itest/chromium"
)

// TestDashboardChromium drives the dashboard in headless Chromium: a kiosk
// going offline shows without a reload, and an operator's maintenance-on
// is sent and its ack shown.
func TestDashboardChromium(t *testing.T) {
	f := startFleet(t)
	f.kiosk("taipei-branch/k1", &fleettest.Handler{})
	f.kiosk("taipei-branch/k2", &fleettest.Handler{})
	f.kiosk("ntuh-lobby/k1", &fleettest.Handler{})
	for _, k := range []string{"taipei-branch/k1", "taipei-branch/k2", "ntuh-lobby/k1"} {
		f.waitStatus(k, manager.StatusOnline)
	}
	ctx, cancel := context.WithTimeout(chromium.New(t, 1280, 1000), 90*time.Second)
	defer cancel()
	shot := func(name string) {
		dir := os.Getenv("FLEETD_SCREENSHOT_DIR")
		if dir == "" {
			return
		}
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
		if err != nil {
			t.Logf("screenshot %s: %v", name, err)
			return
		}
		os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644)
	}
	k2 := `tr[data-kiosk="taipei-branch/k2"] .badge`
	err := chromedp.Do(ctx,
		chromedp.Navigate(f.web.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "op"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "test-operator-pw"),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(k2)),
	)
	if err != nil {
		t.Fatalf("log in and open the overview: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(k2)))
	if err != nil || status != "online" {
		t.Fatalf("k2 badge = %q, %v; want online", status, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.noReload = "same page"`)); err != nil {
		t.Fatal(err)
	}
	f.proxies["taipei-branch/k2"].Kill()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('`+k2+`').textContent === "offline"`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("k2 offline on the page: %v", err)
	}
	marker, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.noReload`))
	if err != nil || marker != "same page" {
		t.Errorf("the page reloaded (marker %q, %v): it must update live", marker, err)
	}
	shot("overview")
	err = chromedp.Do(ctx,
		chromedp.Navigate(f.web.URL+"/kiosks/taipei-branch/k1"),
		chromedp.WaitVisible(chromedp.CSS(`#cmd-maintenance_on`)),
		// Clicked from the page itself: a live update may replace the
		// node between finding and clicking it from outside.
		chromedp.Evaluate[chromedp.Void](`document.getElementById("cmd-maintenance_on").click()`),
		chromedp.WaitVisible(chromedp.CSS(`#commands .a-ok`)),
	)
	if err != nil {
		t.Fatalf("send maintenance_on and see the ack: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('h1 .badge').textContent === "maintenance"`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Errorf("kiosk page does not show maintenance: %v", err)
	}
	ack, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#commands tbody tr`)))
	if err != nil {
		t.Fatal(err)
	}
	if ack = strings.ToLower(ack); !strings.Contains(ack, "maintenance on") || !strings.Contains(ack, "op") || !strings.Contains(ack, "ok") {
		t.Errorf("command row = %q, want maintenance on by op, answered ok", ack)
	}
	shot("kiosk")
	audit, _ := f.m.Audit(10)
	if len(audit) == 0 || audit[0].User != "op" || audit[0].Action != "command" || !strings.HasPrefix(audit[0].Detail, "maintenance_on") {
		t.Errorf("audit = %+v, want maintenance_on by op last", audit)
	}
}

// TestDashboardDeadKioskChromium: a kiosk whose process is killed, its TCP
// connection black-holed so that no Last Will comes (the broker waits for
// its keep-alive, 45 s), turns offline on the dashboard within the
// configured time: three missed health intervals (issue 14, finding 1).
func TestDashboardDeadKioskChromium(t *testing.T) {
	const every, missed = 2 * time.Second, 3
	f := startFleetOpts(t, manager.Options{OfflineAfter: missed, Tick: 200 * time.Millisecond})
	alive, dead := f.ref("k-alive"), f.ref("k-dead")
	f.kioskEvery(alive, &fleettest.Handler{}, every)
	proc, link := f.startChildKiosk(dead, every)
	f.waitStatus(alive, manager.StatusOnline)
	f.waitStatus(dead, manager.StatusOnline)
	ctx, cancel := context.WithTimeout(chromium.New(t, 1280, 1000), 90*time.Second)
	defer cancel()
	badge := `tr[data-kiosk="` + dead + `"] .badge`
	err := chromedp.Do(ctx,
		chromedp.Navigate(f.web.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "viewer"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "test-viewer-pw"),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(badge)),
	)
	if err != nil {
		t.Fatalf("log in and open the overview: %v", err)
	}
	if status, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(badge))); err != nil || status != "online" {
		t.Fatalf("dead-to-be kiosk badge = %q, %v; want online", status, err)
	}
	link.Freeze() // nothing passes, nothing is closed: the broker sees a silent connection
	killed := time.Now()
	if err := proc.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	window := missed * every
	// The configured time, plus one tick, one second of update coalescing
	// and what a loaded test machine adds.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('`+badge+`').textContent === "offline"`,
		chromedp.WithPollingTimeout(window+5*time.Second))); err != nil {
		t.Fatalf("the killed kiosk is not offline on the dashboard %v after: %v", window+5*time.Second, err)
	}
	took := time.Since(killed)
	k, _ := f.m.Kiosk(dead)
	if k.ByWill || k.State != fleet.Online {
		t.Errorf("kiosk state %q (by will %v): offline must come from silence, not a Last Will", k.State, k.ByWill)
	}
	if !hasAlert(k, manager.AlertOffline) {
		t.Errorf("no offline alert for the silent kiosk: %+v", k.Alerts)
	}
	if status, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(`tr[data-kiosk="`+alive+`"] .badge`))); status != "online" {
		t.Errorf("the living kiosk shows %q", status)
	}
	t.Logf("offline on the dashboard %v after the kill (configured: %d × %v = %v)", took.Round(100*time.Millisecond), missed, every, window)
}

func hasAlert(k manager.Kiosk, kind manager.AlertKind) bool {
	for _, a := range k.Alerts {
		if a.Kind == kind {
			return true
		}
	}
	return false
}
