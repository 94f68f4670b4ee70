package instance

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/appliance/devices"
	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// wizardScreens are the frames the kiosk should show, drawn on the host
// by the same packages, font and configuration as the image's kiosk.
type wizardScreens struct {
	attract, menu *image.RGBA
}

// renderWizard draws the attract screen and the menu after TEST ONE's
// card was read, at size, with the configuration the VM's kiosk loads
// (cfgDir) and the font file the image carries (font). The upstream is
// unreachable, as it is in the VM.
func renderWizard(t *testing.T, cfgDir, font string, size image.Point) wizardScreens {
	t.Helper()
	cfg, err := config.Load(cfgDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Display.FontFile = font
	cfg.DataDir = t.TempDir()
	cfg.Upstream.URL = "http://127.0.0.1:1" // refused at once, like the VM's
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
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
	dev := readertest.NewDevice("host")
	s := cfg.Session
	k, err := appliance.NewKiosk(ui, appliance.Options{
		Lang: cfg.Language, IdleTimeout: s.IdleTimeout.D(), WarningCountdown: s.WarningCountdown.D(),
		RemovedScreen: s.RemovedScreen.D(), MaxDuration: s.MaxDuration.D(), Log: log,
		Card: devices.Card{Device: dev}, CardKey: devices.CardErrorKey,
		Upstream: devices.Upstream{Client: client, KioskID: cfg.KioskID, CacheDir: filepath.Join(cfg.DataDir, "cache"), Log: log},
	})
	if err != nil {
		t.Fatal(err)
	}
	k.Start()
	var w wizardScreens
	w.attract = copyFrame(ui)
	card, err := readertest.NewCard(readertest.TestOne)
	if err != nil {
		t.Fatal(err)
	}
	dev.Attach()
	if err := dev.Insert(card); err != nil {
		t.Fatal(err)
	}
	k.Dispatch(appliance.CardInserted{})
	if got := k.Machine().Screen(); got != appliance.ScreenMenu {
		t.Fatalf("host wizard on %s after the card read, want the menu", got)
	}
	w.menu = copyFrame(ui)
	if matches(w.menu, w.attract) {
		t.Fatal("the menu and the attract screen are too alike to tell apart")
	}
	return w
}

func copyFrame(ui *display.UI) *image.RGBA {
	f, _ := ui.Render()
	c := image.NewRGBA(f.Rect)
	copy(c.Pix, f.Pix)
	return c
}

// differing counts the pixels of got (a screendump) whose colour differs
// from want's by more than a small step in any channel.
func differing(got image.Image, want *image.RGBA) (n, total int) {
	b := want.Rect
	if got.Bounds() != b {
		return b.Dx() * b.Dy(), b.Dx() * b.Dy()
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := got.At(x, y).RGBA()
			o := want.PixOffset(x, y)
			if far(r>>8, want.Pix[o]) || far(g>>8, want.Pix[o+1]) || far(bl>>8, want.Pix[o+2]) {
				n++
			}
		}
	}
	return n, b.Dx() * b.Dy()
}

func far(a uint32, b uint8) bool {
	d := int(a) - int(b)
	return d > 8 || d < -8
}

// matches says whether a screendump shows want: at most 0.05 % of its
// pixels differ (antialiasing may round differently after the pixel
// format conversion; a different screen differs in far more).
func matches(got image.Image, want *image.RGBA) bool {
	n, total := differing(got, want)
	return n*2000 <= total
}

// monitor is QEMU's human monitor on a unix socket.
type monitor struct {
	c net.Conn
	r *bufio.Reader
}

func dialMonitor(t *testing.T, sock string) *monitor {
	t.Helper()
	var c net.Conn
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err = net.DialTimeout("unix", sock, 5*time.Second); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("QEMU monitor: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	m := &monitor{c: c, r: bufio.NewReader(c)}
	if err := m.prompt(); err != nil {
		t.Fatalf("QEMU monitor: %v", err)
	}
	return m
}

// prompt reads up to the next "(qemu) " prompt.
func (m *monitor) prompt() error {
	m.c.SetDeadline(time.Now().Add(30 * time.Second))
	var seen []byte
	for !strings.HasSuffix(string(seen), "(qemu) ") {
		b, err := m.r.ReadByte()
		if err != nil {
			return fmt.Errorf("read monitor: %w (after %q)", err, seen)
		}
		seen = append(seen, b)
	}
	return nil
}

// screendump writes the screen to path and decodes it once QEMU has
// answered the command.
func (m *monitor) screendump(path string) (image.Image, error) {
	m.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(m.c, "screendump %s -f png\n", path); err != nil {
		return nil, fmt.Errorf("screendump: %w", err)
	}
	if err := m.prompt(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("screendump: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("screendump %s: %w", path, err)
	}
	return img, nil
}

// waitScreen takes screendumps every 250 ms until one matches want, and
// returns the host time it was taken. On failure it keeps the last dump.
func waitScreen(t *testing.T, m *monitor, dir, name string, want *image.RGBA, d time.Duration) time.Time {
	t.Helper()
	path := filepath.Join(dir, name+".png")
	var last image.Image
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for ctx.Err() == nil {
		taken := time.Now()
		img, err := m.screendump(path)
		if err != nil {
			t.Fatal(err)
		}
		last = img
		if matches(img, want) {
			n, total := differing(img, want)
			t.Logf("%s on screen: %d of %d pixels differ from the host's frame", name, n, total)
			keepScreen(t, path, name)
			return taken
		}
		time.Sleep(250 * time.Millisecond)
	}
	keepScreen(t, path, name)
	n, total := 0, 0
	if last != nil {
		n, total = differing(last, want)
	}
	t.Fatalf("the VM never showed the %s screen within %v: the last screendump (%s) differs in %d of %d pixels", name, d, path, n, total)
	return time.Time{}
}

// keepScreen copies a screendump into NHIKIOSK_VM_SCREENDUMP (a
// directory), if set, to look at.
func keepScreen(t *testing.T, path, name string) {
	dir := os.Getenv("NHIKIOSK_VM_SCREENDUMP")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, path, filepath.Join(dir, name+".png"))
}
