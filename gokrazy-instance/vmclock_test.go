package instance

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/appliance/devices"
	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/internal/itest"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// The upstream as the guest reaches it: a guestfwd address of QEMU's user
// network, relayed to the host's nhisim.
const (
	clockGuestUpstream = "10.0.2.100"
	clockGuestPort     = 8443
)

// TestVMWaitsForTime is issue 21 on the appliance: the qemu image booted
// like a Raspberry Pi without a battery-backed clock (QEMU's RTC at
// 1970-01-01), on a network where NTP cannot work (user networking with
// restrict=on: nothing but the forwards below gets out), with an upstream
// (nhisim over mutual TLS on the host, through a guestfwd relay) that does
// not answer at first. The kiosk must start at once and show the waiting
// screen; once the upstream answers, take its time and show the attract
// screen. Screens are compared with the same wizard drawn on the host.
//
// Skipped where gok is not on PATH (CI does not install it).
func TestVMWaitsForTime(t *testing.T) {
	gok := itest.Optional(t, "gok", "the appliance tier builds a gokrazy image (see docs/appliance.md)")
	qemu := itest.Command(t, "qemu-system-x86_64", "qemu-system-x86")
	mkfs := itest.Command(t, "mkfs.ext4", "e2fsprogs")
	if _, err := os.Stat(ovmfCode); err != nil {
		t.Skipf("OVMF missing (Debian package ovmf): %v", err)
	}
	dir := t.TempDir()

	// The upstream: nhisim over mutual TLS with a certificate for the
	// guest's address of it, behind a gate that is closed for now.
	ca := upstreamtest.NewCA(t, "nhi-kiosks")
	srv := ca.ServerFor(t, net.ParseIP(clockGuestUpstream))
	tc, err := server.TLSConfig(srv.CertFile, srv.KeyFile, ca.PEMFile)
	if err != nil {
		t.Fatal(err)
	}
	sim := upstreamtest.Start(t, server.Options{}, tc)
	gate := upstreamtest.NewGate(t, strings.TrimPrefix(sim.URL, "https://"))
	kiosk := ca.Client(t, "vm-clock")

	img := buildImage(t, gok, dir)
	cfgDir := formatClockPerm(t, mkfs, dir, img, ca, kiosk, sim.Recipient)
	want := renderClockScreens(t, cfgDir, fontFile(t), image.Pt(1280, 800))

	web, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	fwd, env := relayCommand(t, clockGuestUpstream, clockGuestPort, gate.Addr())
	serial := filepath.Join(dir, "serial.log")
	vars := filepath.Join(dir, "vars.fd")
	monSock := filepath.Join(dir, "monitor.sock")
	copyFile(t, ovmfVars, vars)
	cmd := exec.Command(qemu, "-accel", "tcg", "-m", "1024", "-smp", "2",
		"-drive", "if=pflash,format=raw,readonly=on,file="+ovmfCode,
		"-drive", "if=pflash,format=raw,file="+vars,
		"-drive", "file="+img+",format=raw,if=virtio",
		"-rtc", "base=1970-01-01T00:00:00",
		"-nic", "user,restrict=on,model=virtio-net-pci,"+fwd+",hostfwd=tcp:127.0.0.1:"+fmt.Sprint(web)+"-:80",
		"-display", "none", "-vga", "std",
		"-monitor", "unix:"+monSock+",server,nowait",
		"-serial", "file:"+serial)
	cmd.Env = append(os.Environ(), env)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	mon := dialMonitor(t, monSock)
	log := followGuestLog(t, fmt.Sprintf("127.0.0.1:%d", web))

	waitSerial(t, serial, "Linux version", 3*time.Minute)
	kernel := time.Now()
	waiting := waitScreen(t, mon, dir, "waiting-for-time", want.waiting, 5*time.Minute)
	t.Logf("kernel start to the waiting screen: %v", waiting.Sub(kernel).Round(time.Millisecond))
	started, first := log.wait(t, "kiosk starting", time.Minute), log.wait(t, "first frame presented", time.Minute)
	t.Logf("kiosk starting to its first frame (the waiting screen), by the guest's clock: %v", first.guest.Sub(started.guest).Round(time.Millisecond))
	if started.guest.Year() != 1970 {
		t.Errorf("the guest's clock read %v at the kiosk's start, want 1970 (QEMU's RTC)", started.guest)
	}
	if d := gate.Dropped(); d == 0 {
		t.Error("the kiosk has not asked the upstream for the time yet")
	}
	if l := log.String(); !strings.Contains(l, "waiting for the correct time") {
		t.Errorf("the kiosk did not log that it waits for the time:\n%s", l)
	}

	opened := time.Now()
	gate.Open()
	attract := waitScreen(t, mon, dir, "attract-after-time", want.attract, 2*time.Minute)
	t.Logf("upstream reachable to the attract screen: %v", attract.Sub(opened).Round(time.Millisecond))
	set := log.wait(t, `"msg":"clock set"`, time.Minute)
	if !strings.Contains(set.line, `"source":"upstream"`) {
		t.Errorf("the clock was set by %s, want the upstream", set.line)
	}
	if d := set.guest.Sub(time.Now()); d < -time.Minute || d > time.Minute {
		t.Errorf("the guest logged the clock set at %v, %v from the host's time", set.guest, d)
	}
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.Contains(l, `"msg":"clock set"`) && !strings.Contains(l, `"source":"upstream"`) {
			t.Errorf("another source set the clock through restrict=on: %s", l)
		}
	}
	if l := log.String(); !strings.Contains(l, `"source":"ntp","from":"10.0.2.2"`) {
		t.Errorf("the kiosk did not report NTP failing:\n%s", l)
	}
}

// clockScreens are the frames of TestVMWaitsForTime, drawn on the host.
type clockScreens struct {
	waiting, attract *image.RGBA
}

// renderClockScreens draws the waiting screen and then the attract screen
// at size with the configuration the VM's kiosk loads and the image's font.
func renderClockScreens(t *testing.T, cfgDir, font string, size image.Point) clockScreens {
	t.Helper()
	cfg, err := config.Load(cfgDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Display.FontFile = font
	cfg.DataDir = t.TempDir()
	cfg.Upstream.URL = "http://127.0.0.1:1" // refused at once: the screens need no upstream
	log := slog.New(slog.DiscardHandler)
	f, theme, err := display.Configured(cfg.Display)
	if err != nil {
		t.Fatal(err)
	}
	ui, err := display.New(display.Options{Font: f, Catalog: display.NewCatalog(), Theme: theme,
		Lang: cfg.Language, Size: size, DPI: cfg.Display.DPI})
	if err != nil {
		t.Fatal(err)
	}
	client, err := upstream.FromConfig(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Session
	k, err := appliance.NewKiosk(ui, appliance.Options{
		Lang: cfg.Language, IdleTimeout: s.IdleTimeout.D(), WarningCountdown: s.WarningCountdown.D(),
		RemovedScreen: s.RemovedScreen.D(), MaxDuration: s.MaxDuration.D(), Log: log,
		Card: devices.Card{Device: readertest.NewDevice("host")}, CardKey: devices.CardErrorKey,
		Upstream:     devices.Upstream{Client: client, KioskID: cfg.KioskID, CacheDir: filepath.Join(cfg.DataDir, "cache"), Log: log},
		ClockUnknown: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	k.Start()
	var w clockScreens
	w.waiting = copyFrame(ui)
	k.Dispatch(appliance.Clock{Known: true})
	if got := k.Machine().Screen(); got != appliance.ScreenAttract {
		t.Fatalf("host wizard on %s once the time is known, want attract", got)
	}
	w.attract = copyFrame(ui)
	if matches(w.waiting, w.attract) {
		t.Fatal("the waiting and attract screens are too alike to tell apart")
	}
	return w
}

// formatClockPerm creates /perm as gok says, with the kiosk's
// configuration for an https upstream at the guest's relay address, its
// certificate, key and CA, and NTP servers the restricted network does
// not let through. It returns the configuration directory on the host.
func formatClockPerm(t *testing.T, mkfs, dir, img string, ca *upstreamtest.CA, kiosk upstreamtest.Pair, recipient string) string {
	t.Helper()
	gokLog, err := os.ReadFile(filepath.Join(dir, "gok.log"))
	if err != nil {
		t.Fatal(err)
	}
	m := mkfsLine.FindSubmatch(gokLog)
	if m == nil {
		t.Fatalf("gok printed no mkfs.ext4 line:\n%s", gokLog)
	}
	perm := filepath.Join(dir, "perm")
	cfgDir := filepath.Join(perm, "nhikiosk")
	if err := os.MkdirAll(cfgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, kiosk.CertFile, filepath.Join(cfgDir, "kiosk.pem"))
	copyFile(t, kiosk.KeyFile, filepath.Join(cfgDir, "kiosk-key.pem"))
	copyFile(t, ca.PEMFile, filepath.Join(cfgDir, "upstream-ca.pem"))
	cfg := map[string]any{
		"site": "qemu-lab", "kiosk_id": "vm-clock",
		"upstream": map[string]any{"url": fmt.Sprintf("https://%s:%d", clockGuestUpstream, clockGuestPort),
			"client_cert_file": "kiosk.pem", "client_key_file": "kiosk-key.pem", "ca_file": "upstream-ca.pem",
			"age_recipient": recipient, "timeout": "5s"},
		"reader":  map[string]any{"backend": "ccid"},
		"display": map[string]any{"backend": "fbdev", "font_file": imageFont},
		// The host (10.0.2.2) and the public pool: restrict=on lets
		// neither through, as a hospital firewall that drops NTP.
		"time": map[string]any{"ntp_servers": []string{"10.0.2.2", "pool.ntp.org"}},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(cfgDir, "config.json"), b)
	if _, err := config.Load(cfgDir); err != nil {
		t.Fatalf("the VM's configuration is invalid: %v", err)
	}
	out, err := exec.Command(mkfs, "-q", "-F", "-E", "offset="+string(m[1]), "-d", perm, img, string(m[2])).CombinedOutput()
	if err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	return cfgDir
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// guestLog follows the kiosk's log (stderr, slog JSON) through gokrazy's
// web interface, forwarded to web on the host: one connection kept open
// gets gokrazy's last lines at once, then every new one.
type guestLog struct {
	mu    sync.Mutex
	lines []string
}

// logLine is a line of the kiosk's log and the guest's time in it.
type logLine struct {
	line  string
	guest time.Time
}

func followGuestLog(t *testing.T, web string) *guestLog {
	g := &guestLog{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			g.follow(ctx, web)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return g
}

// follow reads the log stream once, from its start (gokrazy replays its
// last lines), replacing what was read before.
func (g *guestLog) follow(ctx context.Context, web string) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+web+"/log?path=/user/kiosk&stream=stderr", nil)
	req.SetBasicAuth("gokrazy", "vmtest-only")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return
	}
	g.mu.Lock()
	g.lines = nil
	g.mu.Unlock()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		g.mu.Lock()
		g.lines = append(g.lines, sc.Text())
		g.mu.Unlock()
	}
}

// String returns the lines read so far.
func (g *guestLog) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return strings.Join(g.lines, "\n")
}

// wait waits for the first line containing s.
func (g *guestLog) wait(t *testing.T, s string, d time.Duration) logLine {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		g.mu.Lock()
		for _, l := range g.lines {
			if !strings.Contains(l, s) {
				continue
			}
			g.mu.Unlock()
			var v struct{ Time time.Time }
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("kiosk log line %q: %v", l, err)
			}
			return logLine{line: l, guest: v.Time}
		}
		g.mu.Unlock()
	}
	t.Fatalf("the kiosk did not log %q within %v; its log:\n%s", s, d, g)
	return logLine{}
}
