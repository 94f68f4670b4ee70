package instance

import (
	"bufio"
	"encoding/json"
	"fmt"
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

// TestVMReadsCard builds the qemu instance's image with gok (plus
// reader/ccid/ccidprobe, which reports to the serial console), formats
// /perm with a kiosk configuration, boots it in QEMU (TCG) with an emulated
// usb-ccid reader whose card is our virtual NHI card over the
// ccid-card-passthru chardev, inserts the card once the guest watches the
// reader, and waits for the guest to read the profile through the pure-Go
// CCID transport. Only QEMU user networking with restrict=on is used.
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
	formatPerm(t, mkfs, dir, img)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serial := filepath.Join(dir, "serial.log")
	vars := filepath.Join(dir, "vars.fd")
	monitor := filepath.Join(dir, "monitor.sock")
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
		"-monitor", "unix:"+monitor+",server,nowait",
		"-serial", "file:"+serial)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	boot := time.Now()
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

	waitSerial(t, serial, "ccidprobe: reader attached", 5*time.Minute)
	t.Logf("guest attached the reader %v after QEMU started", time.Since(boot).Round(time.Millisecond))
	inserted := time.Now()
	if err := card.Insert(ccidtest.NHIATR); err != nil {
		t.Fatal(err)
	}
	line := waitSerial(t, serial, "ccidprobe: card read", time.Minute)
	t.Logf("card insertion to profile read, seen on the serial console: %v (%s)", time.Since(inserted).Round(time.Millisecond), line)
	if !strings.Contains(line, "NHI profile valid") {
		t.Errorf("guest read %q, want a valid NHI profile", line)
	}
	// QEMU's reader claims to do the IFSD exchange itself (dwFeatures
	// 0x400) but passes blocks through, so the card keeps IFSD 32 and
	// chains the 59-byte profile answer: the guest acknowledges the first
	// part with R(0).
	mu.Lock()
	want := []string{
		"00 00 15 00 A4 04 00 10 D1 58 00 00 01 00 00 00 00 00 00 00 00 00 11 00 3C", // I(0) SELECT
		"00 40 07 00 CA 11 00 02 00 00 9E",                                           // I(1) READ PROFILE
		"00 80 00 80",                                                                // R(0): next part of the card's chain
	}
	if strings.Join(wire, "|") != strings.Join(want, "|") {
		t.Errorf("blocks from the guest:\n%s\nwant:\n%s", strings.Join(wire, "\n"), strings.Join(want, "\n"))
	}
	mu.Unlock()
	if err := card.Remove(); err != nil {
		t.Fatal(err)
	}
	waitSerial(t, serial, "ccidprobe: card removed", time.Minute)

	// The framebuffer the kiosk will draw on. Until the wizard exists
	// (issue 6) it shows the Linux console; then this becomes the check of
	// the attract screen and of the screen after the card read.
	shot := filepath.Join(dir, "screen.png")
	screendump(t, monitor, shot)
	if keep := os.Getenv("NHIKIOSK_VM_SCREENDUMP"); keep != "" {
		copyFile(t, shot, keep)
	}
}

// screendump asks the QEMU monitor for a PNG of the screen and checks it
// decodes.
func screendump(t *testing.T, sock, path string) {
	t.Helper()
	c, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		t.Fatalf("QEMU monitor: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(c, "screendump %s -f png\n", path); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err == nil && cfg.Width >= 640 && cfg.Height >= 480 {
			t.Logf("screendump %s: %dx%d", path, cfg.Width, cfg.Height)
			return
		}
	}
	t.Fatalf("no usable screendump at %s", path)
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

// buildImage writes a test instance next to the qemu one (same packages
// plus ccidprobe, a throwaway update password, absolute paths) and builds
// its full image with gok.
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
	c["Packages"] = append(c["Packages"].([]any), "github.com/nhikiosk/nhikiosk/reader/ccid/ccidprobe")
	pc := c["PackageConfig"].(map[string]any)
	pc["github.com/nhikiosk/nhikiosk/reader/ccid/ccidprobe"] = map[string]any{"CommandLineFlags": []string{"-console=/dev/console"}}
	kiosk := pc["github.com/nhikiosk/nhikiosk/cmd/kiosk"].(map[string]any)
	font := filepath.Join(repo, "gokrazy-instance", "fonts", "NotoSansCJK-Regular.ttc")
	if _, err := os.Stat(font); err == nil {
		kiosk["ExtraFilePaths"] = map[string]string{"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc": font}
	} else {
		t.Logf("no font (run fill-fonts.sh): the image goes without it")
		delete(kiosk, "ExtraFilePaths")
	}
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

// formatPerm creates /perm the way gok says, filled with the kiosk's
// configuration directory.
func formatPerm(t *testing.T, mkfs, dir, img string) {
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
  "reader": { "backend": "ccid" }, "display": { "backend": "fbdev" }
}`))
	out, err := exec.Command(mkfs, "-q", "-F", "-E", "offset="+string(m[1]), "-d", perm, img, string(m[2])).CombinedOutput()
	if err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
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
