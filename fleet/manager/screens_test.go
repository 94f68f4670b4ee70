package manager_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
	"github.com/nhikiosk/nhikiosk/fleet/manager"
	"github.com/nhikiosk/nhikiosk/internal/itest/chromium"
)

var updateScreens = flag.Bool("update-screens", false, "write the console screenshots into docs/img")

// consoleSites are the sites of the screenshots, with names as their
// operators write them.
var consoleSites = []struct{ id, name, region, kind string }{
	{"taipei-branch", "臺北業務組", "north", "branch"},
	{"ntuh-lobby", "臺大醫院 大廳", "north", "hospital-lobby"},
	{"taichung-branch", "中區業務組", "central", "branch"},
	{"cmuh-lobby", "中國醫藥大學附設醫院", "central", "hospital-lobby"},
	{"kaohsiung-branch", "高屏業務組", "south", "branch"},
	{"hualien-branch", "東區業務組", "east", "branch"},
}

// TestConsoleChinese drives the console in Traditional Chinese at
// 1440×900 in headless Chromium: the overview of a fleet of six sites, a
// group, a bulk job while some of its kiosks are offline, and a kiosk
// whose configuration drifted because it refused it. With
// -update-screens it writes the screenshots docs/fleet.md shows.
func TestConsoleChinese(t *testing.T) {
	f := startFleet(t)
	admin := manager.User{Name: "test-admin", Role: manager.RoleAdmin}
	var names []string
	for i, s := range consoleSites {
		if err := f.m.SetSiteName(admin, s.id, s.name); err != nil {
			t.Fatal(err)
		}
		for k := 1; k <= 4+i%3; k++ {
			name := fmt.Sprintf("%s/k%d", s.id, k)
			h := &fleettest.Handler{}
			if name == "taichung-branch/k2" {
				// Its tamper switch is wired to the pin branches use for
				// their buzzer.
				h.Local = config.Reference()
				h.Local.Panel.Tamper = "GPIO18"
			}
			f.kiosk(name, h)
			names = append(names, name)
		}
	}
	for _, n := range names {
		f.waitStatus(n, manager.StatusOnline)
	}
	for _, s := range consoleSites {
		var ks []string
		for _, n := range names {
			if strings.HasPrefix(n, s.id+"/") {
				ks = append(ks, n)
			}
		}
		if _, err := f.m.SetTags(admin, ks, []string{"region:" + s.region, "type:" + s.kind}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.m.SetTags(admin, []string{"taipei-branch/k1", "taipei-branch/k2", "ntuh-lobby/k1"}, []string{"pilot:wave-1"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.m.SetConfigLayer(admin, manager.ScopeFleet, 0, []byte(`{"language":"zh-TW","session":{"idle_timeout":"45s"}}`)); err != nil {
		t.Fatal(err)
	}
	if err := f.m.SetConfigLayer(admin, "group:type:branch", 10, []byte(`{"panel":{"buzzer":"GPIO18"}}`)); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the drift of taichung-branch/k2", func() bool {
		k, _ := f.m.Kiosk("taichung-branch/k2")
		return k.ConfigState() == manager.ConfigRefused && hasAlert(k, manager.AlertConfigDrift)
	})
	// Kiosks of the north that go offline: the job waits for them.
	for _, n := range []string{"taipei-branch/k3", "taipei-branch/k4", "ntuh-lobby/k2", "ntuh-lobby/k5"} {
		f.proxies[n].Cut()
	}
	for _, n := range []string{"taipei-branch/k3", "ntuh-lobby/k5"} {
		f.waitStatus(n, manager.StatusOffline)
	}
	job, err := f.m.CreateJob(admin, manager.JobRequest{Action: "maintenance_on", Tags: []string{"region:north"}, Lifetime: manager.Duration(4 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	f.waitFor("the job's reachable kiosks done", func() bool {
		j, _ := f.m.JobFor(admin, job.ID)
		return j.Counts[manager.TargetOK] == j.Total-4 && j.Counts[manager.TargetWaiting] == 4
	})

	if err := f.store.SetUser("陳小明", manager.RoleAdmin, "test-admin-pw-zh"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(chromium.New(t, 1440, 900), 120*time.Second)
	defer cancel()
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(f.web.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "陳小明"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "test-admin-pw-zh"),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-kiosk="taipei-branch/k1"]`)),
	)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	shots := map[string]string{
		"overview": "/",
		"group":    "/groups/region:north",
		"job":      "/jobs/" + job.ID,
		"drift":    "/kiosks/taichung-branch/k2",
	}
	checks := map[string][]string{
		"overview": {"總覽", "臺北業務組", "臺大醫院 大廳", "離線", "設定不一致", "台北時間"},
		"group":    {"region:north", "群組", "開始批次作業"},
		"job":      {"開啟維護模式", "進行中", "等待中", "完成"},
		"drift":    {"設定不一致", "已拒絕", "group:type:branch", "GPIO18"},
	}
	for _, name := range []string{"overview", "group", "job", "drift"} {
		err := chromedp.Do(ctx, chromedp.Navigate(f.web.URL+shots[name]), chromedp.WaitReady(chromedp.CSS(`main`)),
			chromedp.Sleep(300*time.Millisecond))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS(`html`)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		lang, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
		if lang != "zh-Hant-TW" {
			t.Errorf("%s: html lang %q, want zh-Hant-TW", name, lang)
		}
		for _, want := range checks[name] {
			if !strings.Contains(html, want) {
				t.Errorf("%s page lacks %q", name, want)
			}
		}
		if !*updateScreens {
			continue
		}
		b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "img", "fleetd-"+name+".png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The other pages, for a look (FLEETD_SCREENSHOT_DIR, as in
	// TestDashboardChromium); the last in English.
	dir := os.Getenv("FLEETD_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	if _, err := f.m.SetRule(admin, manager.Rule{Name: "北區值班", Sites: []string{"taipei-branch", "ntuh-lobby"}, Email: []string{"oncall@fleet.test"},
		OnNew: true, OnResolved: true, EscalateAfter: manager.Duration(30 * time.Minute), QuietFrom: "22:00", QuietTo: "07:00"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ name, path string }{{"config", "/config"}, {"groups", "/groups"}, {"jobs", "/jobs"}, {"users", "/users"},
		{"account", "/account"}, {"notify", "/notify"}, {"sites", "/sites"}, {"alerts", "/alerts"}, {"audit", "/audit"}} {
		shoot(t, ctx, f.web.URL+p.path, filepath.Join(dir, "zh-"+p.name+".png"))
	}
	// The language switch in the header.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector(".langswitch button").click()`),
		chromedp.Sleep(500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ name, path string }{{"overview", "/"}, {"job", "/jobs/" + job.ID}, {"drift", "/kiosks/taichung-branch/k2"}} {
		shoot(t, ctx, f.web.URL+p.path, filepath.Join(dir, "en-"+p.name+".png"))
	}
}

// shoot writes a screenshot of url to file.
func shoot(t *testing.T, ctx context.Context, url, file string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS(`main`)), chromedp.Sleep(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
