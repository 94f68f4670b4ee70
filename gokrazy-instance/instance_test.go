package instance

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/nhikiosk/nhikiosk/config"
)

// gokConfig is the part of gok's config.json (github.com/gokrazy/internal
// config.Struct) the instances use. Unknown fields are errors, so a typo
// does not silently fall back to a default.
type gokConfig struct {
	Hostname             string
	Environment          []string
	GokrazyPackages      *[]string
	Packages             []string
	PackageConfig        map[string]packageConfig
	SerialConsole        string
	KernelPackage        *string
	FirmwarePackage      *string
	EEPROMPackage        *string
	BootloaderExtraLines []string
	Update               *struct{ HTTPPassword string }
}

type packageConfig struct {
	CommandLineFlags []string
	WaitForClock     bool
	DontStart        bool
	ExtraFilePaths   map[string]string
}

// gokDefaultPackages are what gok adds to an image whose config.json
// names no GokrazyPackages.
var gokDefaultPackages = []string{
	"github.com/gokrazy/gokrazy/cmd/dhcp",
	"github.com/gokrazy/gokrazy/cmd/ntp",
	"github.com/gokrazy/gokrazy/cmd/randomd",
	"github.com/gokrazy/gokrazy/cmd/heartbeat",
}

// gokrazyPackages are the gokrazy programs c's image carries, with its
// init.
func (c gokConfig) gokrazyPackages() []string {
	pkgs := gokDefaultPackages
	if c.GokrazyPackages != nil {
		pkgs = *c.GokrazyPackages
	}
	return append(slices.Clone(pkgs), "github.com/gokrazy/gokrazy")
}

var instances = []struct{ name, goarch string }{{"rpi", "arm64"}, {"qemu", "amd64"}}

func load(t *testing.T, name string) gokConfig {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(name, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c gokConfig
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s/config.json: %v", name, err)
	}
	return c
}

func TestConfig(t *testing.T) {
	for _, inst := range instances {
		t.Run(inst.name, func(t *testing.T) {
			c := load(t, inst.name)
			if !slices.Contains(c.Environment, "GOARCH="+inst.goarch) || !slices.Contains(c.Environment, "GOOS=linux") {
				t.Errorf("Environment = %q, want GOOS=linux GOARCH=%s", c.Environment, inst.goarch)
			}
			if c.Update != nil && c.Update.HTTPPassword != "" {
				t.Error("config.json holds the update password; gok keeps it in ~/.config/gokrazy")
			}
			kiosk, ok := c.PackageConfig["github.com/nhikiosk/nhikiosk/cmd/kiosk"]
			if !ok || !slices.Contains(c.Packages, "github.com/nhikiosk/nhikiosk/cmd/kiosk") {
				t.Fatal("the kiosk is not in the image")
			}
			// The kiosk owns the clock (issue 21): it starts at once and
			// says what it waits for; gokrazy's ntp would set the clock
			// behind its back (and to the saved time as if it were now).
			if kiosk.WaitForClock {
				t.Error("the kiosk waits for the clock: it should start at once and show what it waits for")
			}
			if g := c.gokrazyPackages(); slices.Contains(g, "github.com/gokrazy/gokrazy/cmd/ntp") || !slices.Contains(g, "github.com/gokrazy/gokrazy/cmd/dhcp") {
				t.Errorf("gokrazy packages %q: want dhcp, and not ntp (the kiosk sets the clock)", g)
			}
			if !slices.Contains(kiosk.CommandLineFlags, "-config-dir="+config.ApplianceDir) {
				t.Errorf("kiosk flags %q lack -config-dir=%s", kiosk.CommandLineFlags, config.ApplianceDir)
			}
			font := config.Default().Display.FontFile
			if _, ok := kiosk.ExtraFilePaths[font]; !ok {
				t.Errorf("the image lacks the kiosk's default font %s as an extra file", font)
			}
			for pkg := range c.PackageConfig {
				if !slices.Contains(c.Packages, pkg) {
					t.Errorf("PackageConfig for %s, which is not in Packages", pkg)
				}
			}
		})
	}
}

// TestExtraFilesExist checks every ExtraFilePaths source. The font is
// filled by fill-fonts.sh and never committed: without it the check says
// so and is skipped.
func TestExtraFilesExist(t *testing.T) {
	for _, inst := range instances {
		c := load(t, inst.name)
		for pkg, pc := range c.PackageConfig {
			for dest, src := range pc.ExtraFilePaths {
				p := filepath.Join(inst.name, src)
				_, err := os.Stat(p)
				if err != nil && strings.HasPrefix(filepath.Clean(p), "fonts/") {
					t.Logf("%s: %s (for %s) missing: run gokrazy-instance/fill-fonts.sh before gok", inst.name, p, dest)
					continue
				}
				if err != nil {
					t.Errorf("%s: extra file %s of %s: %v", inst.name, dest, pkg, err)
				}
			}
		}
	}
}

func TestBuilddirReplacesThisRepo(t *testing.T) {
	for _, inst := range instances {
		raw, err := os.ReadFile(filepath.Join(inst.name, "builddir", "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(raw, []byte("replace github.com/nhikiosk/nhikiosk => ../../..\n")) {
			t.Errorf("%s/builddir/go.mod lacks the relative replace of this repository", inst.name)
		}
		root, err := os.ReadFile(filepath.Join(inst.name, "builddir", "../../..", "go.mod"))
		if err != nil || !bytes.HasPrefix(root, []byte("module github.com/nhikiosk/nhikiosk\n")) {
			t.Errorf("%s/builddir/../../.. is not this module: %v", inst.name, err)
		}
	}
}

var update = flag.Bool("update", false, "write the builddirs' go.mod and go.sum as the build leaves them")

// modfile copies instance's builddir go.mod and go.sum into a temporary
// directory and returns the GOFLAGS that make go work on those copies
// (-modfile), so a build can add what it needs without writing the
// builddir; relative replace paths still resolve from the builddir. The
// directory holds the copies, to compare afterwards.
func modfile(t *testing.T, instance string) (goflags, dir string) {
	t.Helper()
	dir = t.TempDir()
	for _, name := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(instance, "builddir", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return "GOFLAGS=-mod=mod -modfile=" + filepath.Join(dir, "go.mod"), dir
}

// goflags is modfile's GOFLAGS alone.
func goflags(t *testing.T, instance string) string {
	f, _ := modfile(t, instance)
	return f
}

// TestPackagesBuild builds every program of each image the way gok does:
// in the instance's builddir, CGO_ENABLED=0, tags gokrazy,netgo,osusergo,
// for the instance's GOARCH; downloads the kernel, firmware and EEPROM
// modules there (so the result does not depend on what the module cache
// already holds); and fails when that needed anything the committed go.mod
// or go.sum lacks, since gok would then rewrite them and leave the
// repository dirty (issue 12). -update writes them back.
func TestPackagesBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every package of two images")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, inst := range instances {
		t.Run(inst.name, func(t *testing.T) {
			c := load(t, inst.name)
			builddir := filepath.Join(inst.name, "builddir")
			flags, copies := modfile(t, inst.name)
			env := append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+inst.goarch, flags)
			pkgs := append(c.gokrazyPackages(), c.Packages...)
			cmd := exec.Command(goBin, append([]string{"build", "-tags", "gokrazy,netgo,osusergo", "-o", t.TempDir()}, pkgs...)...)
			cmd.Dir = builddir
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build %s: %v\n%s", strings.Join(pkgs, " "), err, out)
			}
			checkNotInImage(t, goBin, inst.name, inst.goarch, c.Packages)
			for _, m := range []*string{c.KernelPackage, c.FirmwarePackage, c.EEPROMPackage} {
				if m == nil || *m == "" {
					continue
				}
				dir, err := downloadModule(goBin, builddir, env, *m)
				if err != nil {
					t.Errorf("module %s: %v", *m, err)
					continue
				}
				if _, err := os.Stat(dir); err != nil {
					t.Errorf("module %s downloaded to %s, which is missing: %v", *m, dir, err)
				}
			}
			for _, name := range []string{"go.mod", "go.sum"} {
				committed, err := os.ReadFile(filepath.Join(builddir, name))
				if err != nil {
					t.Fatal(err)
				}
				built, err := os.ReadFile(filepath.Join(copies, name))
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(committed, built) {
					continue
				}
				if *update {
					if err := os.WriteFile(filepath.Join(builddir, name), built, 0o644); err != nil {
						t.Fatal(err)
					}
					t.Logf("updated %s/%s", builddir, name)
					continue
				}
				t.Errorf("%s/%s lacks what building the image needs (gok would rewrite it):\n%s\nrun: go test ./gokrazy-instance -run TestPackagesBuild -update",
					builddir, name, lineDiff(committed, built))
			}
		})
	}
}

// notInImage are packages the image must never contain: the web display
// lets anyone who reaches it use the kiosk (issue 23), and cmd/kiosk leaves
// it out of gokrazy builds by build tag. (Its WebSocket library stays:
// paho links it for ws:// brokers.)
var notInImage = []string{"github.com/nhikiosk/nhikiosk/display/web"}

// checkNotInImage lists what the image's programs link, the way gok builds
// them, and fails if a package of notInImage is among them. The same list
// without the gokrazy tag must hold them, or the check proves nothing.
func checkNotInImage(t *testing.T, goBin, instance, goarch string, pkgs []string) {
	t.Helper()
	deps := func(tags string) []string {
		cmd := exec.Command(goBin, append([]string{"list", "-deps", "-tags", tags}, pkgs...)...)
		cmd.Dir = filepath.Join(instance, "builddir")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, goflags(t, instance))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps -tags %s: %v", tags, err)
		}
		return strings.Fields(string(out))
	}
	image, elsewhere := deps("gokrazy,netgo,osusergo"), deps("netgo,osusergo")
	for _, p := range notInImage {
		if slices.Contains(image, p) {
			t.Errorf("%s: the image links %s", instance, p)
		}
		if !slices.Contains(elsewhere, p) {
			t.Errorf("%s: %s is not linked even without the gokrazy tag: the check is stale", instance, p)
		}
	}
}

// downloadModule downloads module m as the builddir resolves it and returns
// its directory in the module cache. go list -m prints an empty directory
// for a module that is not in the cache yet, so it cannot tell "missing"
// from "not downloaded"; go mod download -json does both and says why in
// its Error field.
func downloadModule(goBin, builddir string, env []string, m string) (string, error) {
	cmd := exec.Command(goBin, "mod", "download", "-json", m)
	cmd.Dir = builddir
	cmd.Env = env
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		return "", fmt.Errorf("go mod download: %v %v\n%s%s", err, jerr, out, stderr)
	}
	if info.Error != "" {
		return "", fmt.Errorf("go mod download: %s", info.Error)
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download printed no directory:\n%s", out)
	}
	return info.Dir, nil
}

// lineDiff lists the lines only in got (+) or only in want (-).
func lineDiff(want, got []byte) string {
	in := func(b []byte) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(string(b), "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var d []string
	for _, l := range strings.Split(string(want), "\n") {
		if !g[l] {
			d = append(d, "- "+l)
		}
	}
	for _, l := range strings.Split(string(got), "\n") {
		if !w[l] {
			d = append(d, "+ "+l)
		}
	}
	return strings.Join(d, "\n")
}

// TestFlagsParse runs each configured program, built for this machine, with
// its image's flags followed by -h: a flag the program does not define
// makes the flag package say so.
func TestFlagsParse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, inst := range instances {
		c := load(t, inst.name)
		for pkg, pc := range c.PackageConfig {
			if len(pc.CommandLineFlags) == 0 {
				continue
			}
			bin := filepath.Join(t.TempDir(), "prog")
			build := exec.Command(goBin, "build", "-tags", "gokrazy,netgo,osusergo", "-o", bin, pkg)
			build.Dir = filepath.Join(inst.name, "builddir")
			build.Env = append(os.Environ(), "CGO_ENABLED=0", goflags(t, inst.name))
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("build %s: %v\n%s", pkg, err, out)
			}
			out, _ := exec.Command(bin, append(slices.Clone(pc.CommandLineFlags), "-h")...).CombinedOutput()
			for _, bad := range []string{"flag provided but not defined", "invalid value", "bad flag syntax"} {
				if bytes.Contains(out, []byte(bad)) {
					t.Errorf("%s: %s %q: %s", inst.name, pkg, pc.CommandLineFlags, out)
				}
			}
			if !bytes.Contains(out, []byte("Usage")) && !bytes.Contains(out, []byte("usage")) {
				t.Errorf("%s: %s -h printed no usage: %s", inst.name, pkg, out)
			}
		}
	}
}
