package instance

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The OVMF firmware of Debian's ovmf package.
const (
	ovmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	ovmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
)

// vmPassword is the test image's gokrazy password (its web interface,
// where the kiosk's log is read); nothing else has it.
const vmPassword = "vmtest-only"

// imageFont is where the image carries the font (fill-fonts.sh).
const imageFont = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

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

// buildImage writes a test instance next to the qemu one (same packages,
// a throwaway update password, absolute paths, the font required) and
// builds its full image with gok. Nothing is written into the repository.
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
	c["Update"] = map[string]any{"HTTPPassword": vmPassword}
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
	start := time.Now()
	build := exec.Command(gok, "--parent_dir", dir, "-i", "vmtest", "overwrite", "--full", img, "--target_storage_bytes", fmt.Sprint(2<<30))
	build.Dir = dir
	log, err := build.CombinedOutput()
	if err != nil {
		t.Fatalf("gok overwrite: %v\n%s", err, log)
	}
	t.Logf("gok built the image in %v", time.Since(start).Round(100*time.Millisecond))
	writeFile(t, filepath.Join(dir, "gok.log"), log)
	return img
}

var mkfsLine = regexp.MustCompile(`mkfs\.ext4 -F -E offset=(\d+) \S+ (\d+)`)

// formatPerm creates /perm the way gok says, holding files (path under
// /perm → content), and returns the kiosk's configuration directory
// (/perm/nhikiosk) on the host.
func formatPerm(t *testing.T, mkfs, dir, img string, files map[string][]byte) string {
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
	cfgDir := filepath.Join(perm, "nhikiosk")
	if err := os.MkdirAll(cfgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		writeFile(t, filepath.Join(perm, name), b)
	}
	out, err := exec.Command(mkfs, "-q", "-F", "-E", "offset="+string(m[1]), "-d", perm, img, string(m[2])).CombinedOutput()
	if err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	return cfgDir
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
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
