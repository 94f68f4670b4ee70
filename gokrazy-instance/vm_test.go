package instance

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/internal/itest"
	"github.com/nhikiosk/nhikiosk/reader/ccid/ccidtest"
	"github.com/nhikiosk/nhikiosk/reader/ccid/vscard"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
)

// The OVMF firmware of Debian's ovmf package.
const (
	ovmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	ovmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
)

// TestVMReadsCard builds the qemu instance's image with gok, formats /perm
// with a kiosk configuration (reader ccid, display fbdev, the image's
// font), boots it in QEMU (TCG) with an emulated usb-ccid reader whose
// card is our virtual NHI card over the ccid-card-passthru chardev, and
// watches the kiosk through QEMU's screendump: the attract screen must
// appear, then the menu once the card is in (read by the guest through
// the pure-Go CCID transport), then attract again after the card leaves.
// Every screen is compared with the same wizard drawn on the host at the
// framebuffer's size. Only QEMU user networking with restrict=on is used:
// the upstream is unreachable, which the attract screen and the menu do
// not need.
//
// Skipped where gok is not on PATH (CI does not install it).
func TestVMReadsCard(t *testing.T) {
	gok := itest.Optional(t, "gok", "the appliance tier builds a gokrazy image (see docs/appliance.md)")
	qemu := itest.Command(t, "qemu-system-x86_64", "qemu-system-x86")
	mkfs := itest.Command(t, "mkfs.ext4", "e2fsprogs")
	if _, err := os.Stat(ovmfCode); err != nil {
		t.Skipf("OVMF missing (Debian package ovmf): %v", err)
	}
	dir := t.TempDir()
	img := buildImage(t, gok, dir)
	cfgDir := formatPerm(t, mkfs, dir, img)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serial := filepath.Join(dir, "serial.log")
	vars := filepath.Join(dir, "vars.fd")
	monSock := filepath.Join(dir, "monitor.sock")
	pcap := "" // NHIKIOSK_VM_PCAP records the reader's USB traffic (reader/ccid/testdata)
	if p := os.Getenv("NHIKIOSK_VM_PCAP"); p != "" {
		pcap = ",pcap=" + p
	}
	copyFile(t, ovmfVars, vars)
	cmd := exec.Command(qemu, "-accel", "tcg", "-m", "1024", "-smp", "2",
		"-drive", "if=pflash,format=raw,readonly=on,file="+ovmfCode,
		"-drive", "if=pflash,format=raw,file="+vars,
		"-drive", "file="+img+",format=raw,if=virtio",
		"-nic", "user,restrict=on,model=virtio-net-pci",
		"-chardev", "socket,id=card,host=127.0.0.1,port="+fmt.Sprint(ln.Addr().(*net.TCPAddr).Port),
		"-device", "qemu-xhci", "-device", "usb-ccid"+pcap, "-device", "ccid-card-passthru,chardev=card",
		"-display", "none", "-vga", "std",
		"-monitor", "unix:"+monSock+",server,nowait",
		"-serial", "file:"+serial)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	conn, err := acceptWithin(ln, 30*time.Second)
	if err != nil {
		t.Fatalf("QEMU did not connect the card chardev: %v", err)
	}
	defer conn.Close()
	t1 := ccidtest.NewT1Card(nhiCard(t))
	var mu sync.Mutex
	var wire []string // the T=1 blocks the guest's transport sent, through QEMU
	card, err := vscard.NewCard(conn, func(block []byte) []byte {
		mu.Lock()
		wire = append(wire, fmt.Sprintf("% X", block))
		mu.Unlock()
		return t1.Receive(block)
	})
	if err != nil {
		t.Fatal(err)
	}
	go card.Serve()
	mon := dialMonitor(t, monSock)

	waitSerial(t, serial, "Linux version", 3*time.Minute)
	kernel := time.Now() // within 200 ms of the kernel's first line
	first, err := mon.screendump(filepath.Join(dir, "first.png"))
	if err != nil {
		t.Fatal(err)
	}
	want := renderWizard(t, cfgDir, fontFile(t), first.Bounds().Size())
	keepFrames(t, want)
	attract := waitScreen(t, mon, dir, "attract", want.attract, 5*time.Minute)
	t.Logf("kernel start to the attract screen: %v", attract.Sub(kernel).Round(time.Millisecond))

	inserted := time.Now()
	if err := card.Insert(ccidtest.NHIATR); err != nil {
		t.Fatal(err)
	}
	menu := waitScreen(t, mon, dir, "menu", want.menu, time.Minute)
	t.Logf("card insertion to the menu on screen: %v", menu.Sub(inserted).Round(time.Millisecond))
	checkWire(t, &mu, &wire)

	if err := card.Remove(); err != nil {
		t.Fatal(err)
	}
	waitScreen(t, mon, dir, "attract-again", want.attract, time.Minute)
}

// checkWire compares the T=1 blocks the guest sent with one NHI read.
// QEMU's reader claims to do the IFSD exchange itself (dwFeatures 0x400)
// but passes blocks through, so the card keeps IFSD 32 and chains the
// 59-byte profile answer: the guest acknowledges the first part with R(0).
func checkWire(t *testing.T, mu *sync.Mutex, wire *[]string) {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"00 00 15 00 A4 04 00 10 D1 58 00 00 01 00 00 00 00 00 00 00 00 00 11 00 3C", // I(0) SELECT
		"00 40 07 00 CA 11 00 02 00 00 9E",                                           // I(1) READ PROFILE
		"00 80 00 80",                                                                // R(0): next part of the card's chain
	}
	if strings.Join(*wire, "|") != strings.Join(want, "|") {
		t.Errorf("blocks from the guest:\n%s\nwant:\n%s", strings.Join(*wire, "\n"), strings.Join(want, "\n"))
	}
}

// fontFile is the font fill-fonts.sh put into the instance, which the
// image carries at the kiosk's display.font_file.
func fontFile(t *testing.T) string {
	t.Helper()
	font, err := filepath.Abs(filepath.Join("fonts", "NotoSansCJK-Regular.ttc"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(font); err != nil {
		t.Fatalf("the kiosk needs its font in the image: run gokrazy-instance/fill-fonts.sh (%v)", err)
	}
	return font
}

// keepFrames writes the host's frames into NHIKIOSK_VM_SCREENDUMP, if set.
func keepFrames(t *testing.T, w wizardScreens) {
	dir := os.Getenv("NHIKIOSK_VM_SCREENDUMP")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, img := range map[string]*image.RGBA{"want-attract": w.attract, "want-menu": w.menu} {
		f, err := os.Create(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

// nhiCard answers like the NHI card of the fake person TEST ONE, with
// the card logic the PC/SC tests use.
func nhiCard(t *testing.T) ccidtest.Card {
	c, err := readertest.NewCard(readertest.TestOne)
	if err != nil {
		t.Fatal(err)
	}
	return func(apdu []byte) []byte {
		resp, err := c.Respond(apdu)
		if err != nil {
			t.Errorf("virtual card: %v", err)
		}
		return resp
	}
}

// buildImage writes a test instance next to the qemu one (same packages,
// a throwaway update password, absolute paths, the font required) and
// builds its full image with gok.
func buildImage(t *testing.T, gok, dir string) string {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	raw, err := os.ReadFile("qemu/config.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	c["Hostname"] = "vmtest"
	c["Update"] = map[string]any{"HTTPPassword": "vmtest-only"}
	pc := c["PackageConfig"].(map[string]any)
	kiosk := pc["github.com/nhikiosk/nhikiosk/cmd/kiosk"].(map[string]any)
	kiosk["ExtraFilePaths"] = map[string]string{imageFont: fontFile(t)}
	inst := filepath.Join(dir, "vmtest")
	if err := os.MkdirAll(filepath.Join(inst, "builddir"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, _ := json.MarshalIndent(c, "", "  ")
	writeFile(t, filepath.Join(inst, "config.json"), out)
	mod, err := os.ReadFile("qemu/builddir/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod = []byte(strings.Replace(string(mod), "=> ../../..", "=> "+repo, 1))
	writeFile(t, filepath.Join(inst, "builddir", "go.mod"), mod)
	copyFile(t, "qemu/builddir/go.sum", filepath.Join(inst, "builddir", "go.sum"))

	img := filepath.Join(dir, "vmtest.img")
	build := exec.Command(gok, "--parent_dir", dir, "-i", "vmtest", "overwrite", "--full", img, "--target_storage_bytes", fmt.Sprint(2<<30))
	build.Dir = dir
	log, err := build.CombinedOutput()
	if err != nil {
		t.Fatalf("gok overwrite: %v\n%s", err, log)
	}
	writeFile(t, filepath.Join(dir, "gok.log"), log)
	return img
}

var mkfsLine = regexp.MustCompile(`mkfs\.ext4 -F -E offset=(\d+) \S+ (\d+)`)

// imageFont is where the image carries the font (fill-fonts.sh).
const imageFont = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

// formatPerm creates /perm the way gok says, filled with the kiosk's
// configuration directory, and returns that directory on the host.
func formatPerm(t *testing.T, mkfs, dir, img string) string {
	t.Helper()
	log, err := os.ReadFile(filepath.Join(dir, "gok.log"))
	if err != nil {
		t.Fatal(err)
	}
	m := mkfsLine.FindSubmatch(log)
	if m == nil {
		t.Fatalf("gok printed no mkfs.ext4 line:\n%s", log)
	}
	perm := filepath.Join(dir, "perm")
	if err := os.MkdirAll(filepath.Join(perm, "nhikiosk"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(perm, "nhikiosk", "config.json"), []byte(`{
  "site": "qemu-lab", "kiosk_id": "vm-1",
  "upstream": { "url": "http://127.0.0.1:8443" },
  "reader": { "backend": "ccid" },
  "display": { "backend": "fbdev", "font_file": "`+imageFont+`" }
}`))
	out, err := exec.Command(mkfs, "-q", "-F", "-E", "offset="+string(m[1]), "-d", perm, img, string(m[2])).CombinedOutput()
	if err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	return filepath.Join(perm, "nhikiosk")
}

func acceptWithin(ln net.Listener, d time.Duration) (net.Conn, error) {
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(d))
	return ln.Accept()
}

// waitSerial polls the serial log for a line containing s.
func waitSerial(t *testing.T, path, s string, d time.Duration) string {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.Contains(sc.Text(), s) {
				f.Close()
				return strings.TrimSpace(sc.Text())
			}
		}
		f.Close()
	}
	tail, _ := os.ReadFile(path)
	if len(tail) > 4000 {
		tail = tail[len(tail)-4000:]
	}
	t.Fatalf("no %q on the serial console within %v; its end:\n%s", s, d, tail)
	return ""
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, b)
}
