package alsa_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/internal/itest"
	"github.com/nhikiosk/nhikiosk/sound/soundtest"
	"github.com/nhikiosk/nhikiosk/speech"
	"github.com/nhikiosk/nhikiosk/speech/voice"
)

// TestQEMUPlays plays speech through this package on a real kernel's ALSA:
// Debian's kernel boots in QEMU with an Intel HD-audio controller and
// QEMU's hda-output codec (hda-duplex's input cannot open on a WAV
// audiodev), whose output QEMU records to a WAV file; the
// init (internal/vminit) loads the sound modules, opens the card with
// Open (a long buffer: the emulated CPU is slow), plays the "audio mode" clip and powers off. The
// recording must hold the clip: its loudness envelope correlates with
// the clip's, and it lasts as long. (The gokrazy amd64 kernel has no
// HD-audio codec driver, docs/audio.md; this kernel's modules do.)
func TestQEMUPlays(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("boots an amd64 kernel")
	}
	qemu := itest.Command(t, "qemu-system-x86_64", "qemu-system-x86")
	kernels, _ := filepath.Glob("/boot/vmlinuz-*-amd64")
	if len(kernels) == 0 {
		itest.Missing(t, "no /boot/vmlinuz-*-amd64 (Debian package linux-image-amd64)")
	}
	sort.Strings(kernels)
	kernel := kernels[len(kernels)-1]
	ver := strings.TrimPrefix(filepath.Base(kernel), "vmlinuz-")
	mods := itest.File(t, filepath.Join("/lib/modules", ver), "linux-image-amd64")

	dir := t.TempDir()
	initBin := filepath.Join(dir, "init")
	build := exec.Command("go", "build", "-o", initBin, "./internal/vminit")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the init: %v\n%s", err, out)
	}
	order := moduleOrder(t, mods, "snd-hda-intel", "snd-hda-codec-generic")
	files := map[string]string{"init": initBin}
	var names []string
	for _, m := range order {
		names = append(names, filepath.Base(m))
		files["modules/"+filepath.Base(m)] = filepath.Join(mods, m)
	}
	initrd := filepath.Join(dir, "initrd.cpio")
	writeCPIO(t, initrd, files, map[string]string{"modules/order": strings.Join(names, "\n")})

	wav := filepath.Join(dir, "out.wav")
	var console string
	start := time.Now()
	// Under emulation the HD-audio driver sometimes misses the codec at
	// probe ("Cannot probe codecs"): that boot proves nothing, boot again.
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		start = time.Now()
		cmd := exec.CommandContext(ctx, qemu, "-accel", "tcg", "-m", "512", "-nographic", "-no-reboot",
			"-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 panic=-1 quiet",
			"-audiodev", "wav,id=snd0,path="+wav, "-device", "intel-hda", "-device", "hda-output,audiodev=snd0")
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("qemu: %v\n%s", err, out)
		}
		console = string(out)
		if !strings.Contains(console, "Cannot probe codecs") || try == 5 {
			break
		}
		t.Logf("boot %d: the kernel missed the emulated codec; booting again", try)
	}
	if !strings.Contains(console, "vminit: played") {
		t.Fatalf("the guest did not play; its console:\n%s", console)
	}
	for _, l := range strings.Split(console, "\n") {
		if strings.Contains(l, "vminit:") {
			t.Logf("%s (whole boot %v)", strings.TrimSpace(l), time.Since(start).Round(time.Millisecond))
		}
	}

	if p := os.Getenv("NHIKIOSK_KEEP_WAV"); p != "" {
		copyOut(t, wav, p)
	}
	b, err := os.ReadFile(wav)
	if err != nil {
		t.Fatal(err)
	}
	rec, rate, err := soundtest.ParseWAV(b)
	if err != nil {
		t.Fatal(err)
	}
	lib, err := speech.OpenLibrary(voice.FS)
	if err != nil {
		t.Fatal(err)
	}
	decode := func(id string) []int16 {
		var clip []int16
		if err := lib.Stream(speech.Clip{Lang: "en", ID: id}, 48000, func(s []int16) bool { clip = append(clip, s...); return true }); err != nil {
			t.Fatal(err)
		}
		return clip
	}
	clip := decode("audio.on")
	env, cenv := soundtest.Envelope(rec, rate), soundtest.Envelope(clip, 48000)
	// The first 4 s: an emulated sound card's pace drifts over a sentence.
	head := func(e []float64) []float64 { return e[:min(len(e), 400)] }
	at, stretch, r := soundtest.BestStretch(env, head(cenv))
	loud, want := soundtest.Loud(env, 0.01), soundtest.Loud(cenv, 0.01)
	t.Logf("recorded %.2f s at %d Hz, %.2f s of it loud; the clip (%.2f s, %.2f s loud) matches at %.2f s, stretched %.2f, with r = %.3f",
		float64(len(rec))/float64(rate), rate, float64(loud)/100, float64(len(clip))/48000, float64(want)/100, float64(at)/100, stretch, r)
	// Another sentence of about the same length, for comparison: speech
	// against speech correlates somewhat anyway.
	_, _, other := soundtest.BestStretch(env, head(soundtest.Envelope(decode("audio.help"), 48000)))
	t.Logf("the recording against another sentence: r = %.3f", other)
	if r < 0.6 || r < other+0.2 {
		t.Errorf("the recording's envelope correlates %.3f with the clip's and %.3f with another sentence's; want ≥ 0.6 and 0.2 more", r, other)
	}
	if loud < want*8/10 || loud > want*5/4 {
		t.Errorf("%d loud 10 ms frames recorded, the clip has %d", loud, want)
	}
}

// moduleOrder returns the modules (paths relative to mods) that want
// need, dependencies first, from modules.dep.
func moduleOrder(t *testing.T, mods string, want ...string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(mods, "modules.dep"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	deps := map[string][]string{}
	byName := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		mod, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		deps[mod] = strings.Fields(rest)
		byName[strings.TrimSuffix(filepath.Base(mod), ".ko")] = mod
	}
	var out []string
	seen := map[string]bool{}
	var add func(m string)
	add = func(m string) {
		if seen[m] {
			return
		}
		seen[m] = true
		d := deps[m]
		for i := len(d) - 1; i >= 0; i-- {
			add(d[i])
		}
		out = append(out, m)
	}
	for _, w := range want {
		m, ok := byName[w]
		if !ok {
			t.Fatalf("module %s not in %s/modules.dep", w, mods)
		}
		add(m)
	}
	return out
}

// writeCPIO writes an initramfs (cpio "newc") of files (archive path →
// host path) and texts (archive path → content), with the directories
// they need.
func writeCPIO(t *testing.T, path string, files, texts map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	ino := 1
	entry := func(name string, mode uint32, data []byte) {
		fmt.Fprintf(&buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
		ino++
		buf.WriteString(name)
		buf.WriteByte(0)
		for buf.Len()%4 != 0 {
			buf.WriteByte(0)
		}
		buf.Write(data)
		for buf.Len()%4 != 0 {
			buf.WriteByte(0)
		}
	}
	entry("modules", 0o40755, nil)
	for name, host := range files {
		b, err := os.ReadFile(host)
		if err != nil {
			t.Fatal(err)
		}
		entry(name, 0o100755, b)
	}
	for name, s := range texts {
		entry(name, 0o100644, []byte(s))
	}
	entry("TRAILER!!!", 0, nil)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyOut(t *testing.T, from, to string) {
	b, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, b, 0o644)
	}
	if err != nil {
		t.Log(err)
	}
}
