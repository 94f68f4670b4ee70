package instance

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/internal/itest"
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

// vmTools are the programs the VM tests run.
type vmTools struct{ gok, qemu, mkfs string }

// needVM returns the programs every VM test needs. It skips the test
// where gok or OVMF is missing (CI installs neither) and, under
// NHIKIOSK_REQUIRE_INTEGRATION, fails it where QEMU or mkfs.ext4 is.
func needVM(t *testing.T) vmTools {
	t.Helper()
	tools := vmTools{
		gok:  itest.Optional(t, "gok", "the appliance tier builds a gokrazy image (see docs/appliance.md)"),
		qemu: itest.Command(t, "qemu-system-x86_64", "qemu-system-x86"),
		mkfs: itest.Command(t, "mkfs.ext4", "e2fsprogs"),
	}
	if _, err := os.Stat(ovmfCode); err != nil {
		t.Skipf("OVMF missing (Debian package ovmf): %v", err)
	}
	return tools
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

// vmImage is a full image of the qemu instance built by gok for one test.
// Format its /perm (format), then boot it (boot, vmboot_test.go) as often
// as the test wants.
type vmImage struct {
	tools vmTools
	dir   string // the test's directory, where the image and /perm live
	path  string // the image file
	// mkfsOffset and mkfsBlocks are where /perm goes, from the mkfs.ext4
	// line gok printed.
	mkfsOffset, mkfsBlocks string
}

var mkfsLine = regexp.MustCompile(`mkfs\.ext4 -F -E offset=(\d+) \S+ (\d+)`)

// buildImage writes a test instance next to the qemu one (same packages,
// a throwaway update password, absolute paths, the font required) into
// dir and builds its full image with gok. Nothing is written into the
// repository.
func buildImage(t *testing.T, tools vmTools, dir string) *vmImage {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(readFile(t, "qemu/config.json"), &c); err != nil {
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
	mod := strings.Replace(string(readFile(t, "qemu/builddir/go.mod")), "=> ../../..", "=> "+repo, 1)
	writeFile(t, filepath.Join(inst, "builddir", "go.mod"), []byte(mod))
	copyFile(t, "qemu/builddir/go.sum", filepath.Join(inst, "builddir", "go.sum"))

	img := &vmImage{tools: tools, dir: dir, path: filepath.Join(dir, "vmtest.img")}
	start := time.Now()
	build := exec.Command(tools.gok, "--parent_dir", dir, "-i", "vmtest", "overwrite", "--full", img.path,
		"--target_storage_bytes", fmt.Sprint(2<<30))
	build.Dir = dir
	log, err := build.CombinedOutput()
	if err != nil {
		t.Fatalf("gok overwrite: %v\n%s", err, log)
	}
	t.Logf("gok built the image in %v", time.Since(start).Round(100*time.Millisecond))
	writeFile(t, filepath.Join(dir, "gok.log"), log)
	m := mkfsLine.FindSubmatch(log)
	if m == nil {
		t.Fatalf("gok printed no mkfs.ext4 line:\n%s", log)
	}
	img.mkfsOffset, img.mkfsBlocks = string(m[1]), string(m[2])
	return img
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	writeFile(t, to, readFile(t, from))
}
