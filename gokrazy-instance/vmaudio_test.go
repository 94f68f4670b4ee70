package instance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/sound/soundtest"
	"github.com/nhikiosk/nhikiosk/speech"
	"github.com/nhikiosk/nhikiosk/speech/voice"
)

// TestVMAudio boots the image in QEMU with a sound card (intel-hda with an
// hda-duplex codec, its output recorded to a WAV file by QEMU's wav
// audiodev) and a USB keyboard, holds F1 (the help key) for 3 s, and looks
// for the spoken attract prompt in the recording: the kiosk's first words
// in audio mode ("audio mode…", from the embedded clip), found by the
// correlation of their loudness envelope with the clip's, and the length
// of the speech.
//
// gokrazy's amd64 kernel (kernel.amd64) has the HD-audio controller
// driver but no codec driver (CONFIG_SND_HDA_GENERIC is not set), so the
// card has no PCM device there: the test then checks what works without
// it (the keyboard found, help held starts audio mode) and skips, saying
// so. The Raspberry Pi kernel has snd-bcm2835 (the headphone jack) and
// snd-usb-audio built in (docs/audio.md).
func TestVMAudio(t *testing.T) {
	tools := needVM(t)
	dir := t.TempDir()
	sim := startNhisim(t, dir, nhisimOptions{KioskID: "vm-audio"})
	img := buildImage(t, tools, dir)
	perm := newKioskPerm(t, sim, sim.GuestURL())
	perm.set("language", "en")
	perm.set("audio.volume", 100)
	img.format(t, perm)
	wav := filepath.Join(dir, "speech.wav")
	vm := img.boot(t, vmOptions{
		Args:    []string{"-audiodev", "wav,id=snd0,path=" + wav},
		Devices: []string{"intel-hda", "hda-duplex,audiodev=snd0", "usb-kbd,id=kbd"},
	})
	vm.kernelStarted(t)
	vm.log.wait(t, `"msg":"tactile keys"`, 1, 5*time.Minute)
	vm.log.wait(t, `"msg":"first frame presented"`, 1, 5*time.Minute)
	vm.log.wait(t, `"msg":"clock set"`, 1, 2*time.Minute) // the attract screen, not out of service

	key := func(down bool) {
		vm.q.must("input-send-event", map[string]any{"events": []any{map[string]any{
			"type": "key", "data": map[string]any{"down": down, "key": map[string]any{"type": "qcode", "data": "f1"}}}}})
	}
	key(true)
	time.Sleep(3 * time.Second)
	key(false)
	vm.log.wait(t, `"msg":"audio mode on"`, 1, time.Minute)
	var log string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if log = vm.log.String(); strings.Contains(log, `"msg":"sound device"`) || strings.Contains(log, "no headphone output") {
			break
		}
	}
	if !strings.Contains(log, `"msg":"sound device"`) {
		t.Skipf("the guest has no playback device for intel-hda: gokrazy's kernel.amd64 lacks an HD-audio codec driver "+
			"(CONFIG_SND_HDA_GENERIC is not set). Audio mode started from the USB keyboard's F1; the kiosk said:\n%s", lines(log, "speech"))
	}
	time.Sleep(8 * time.Second) // the prompt is about 6 s
	vm.q.do("quit", nil)        // QEMU completes the WAV header on exit
	time.Sleep(2 * time.Second)

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
	var clip []int16
	if err := lib.Stream(speech.Clip{Lang: "en", ID: "audio.on"}, 48000, func(s []int16) bool { clip = append(clip, s...); return true }); err != nil {
		t.Fatal(err)
	}
	env, cenv := soundtest.Envelope(rec, rate), soundtest.Envelope(clip, 48000)
	at, _, r := soundtest.BestStretch(env, cenv)
	loud := soundtest.Loud(env, 0.01)
	t.Logf("recorded %.1f s at %d Hz; %.1f s of it loud; the prompt's envelope matches at %.2f s with r = %.2f",
		float64(len(rec))/float64(rate), rate, float64(loud)/100, float64(at)/100, r)
	if r < 0.6 {
		t.Errorf("the recording does not hold the spoken prompt (envelope correlation %.2f, want ≥ 0.6)", r)
	}
	if want := float64(len(clip)) / 48000; float64(loud)/100 < want*0.6 {
		t.Errorf("%.1f s of sound recorded, the prompt alone is %.1f s", float64(loud)/100, want)
	}
}

// lines returns the lines of log that contain s.
func lines(log, s string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
