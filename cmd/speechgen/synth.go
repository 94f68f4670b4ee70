package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nhikiosk/nhikiosk/speech"
)

// recordClip synthesizes e, cleans it up and encodes it; it returns the
// clip's length in milliseconds.
func recordClip(dir string, e speech.Entry) (int, error) {
	tmp, err := os.MkdirTemp("", "speechgen")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	var parts []string
	for i, run := range runs(e) {
		w := filepath.Join(tmp, fmt.Sprintf("part%d.wav", i))
		if err := synth(run, w); err != nil {
			return 0, err
		}
		parts = append(parts, w)
	}
	if len(parts) == 0 {
		return 0, fmt.Errorf("nothing to say in %q", e.Text)
	}
	clean := filepath.Join(tmp, "clean.wav")
	// Each part to 16 kHz mono first (festival and espeak differ in rate),
	// then one file trimmed of silence at both ends, normalised, padded.
	var norm []string
	for i, p := range parts {
		n := filepath.Join(tmp, fmt.Sprintf("n%d.wav", i))
		if err := cmd("sox", p, "-r", "16000", "-c", "1", "-b", "16", n); err != nil {
			return 0, err
		}
		norm = append(norm, n)
	}
	args := append(norm, clean, "silence", "1", "0.01", "0.2%", "reverse", "silence", "1", "0.01", "0.2%", "reverse",
		"norm", "-1", "pad", "0.02", "0.08")
	if err := cmd("sox", args...); err != nil {
		return 0, err
	}
	out := filepath.Join(dir, speech.ClipPath(speech.Clip{Lang: e.Lang, ID: e.ID}))
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return 0, err
	}
	if err := cmd("opusenc", "--quiet", "--bitrate", "16", "--vbr", "--speech", "--framesize", "20", "--comp", "10",
		"--padding", "0", "--discard-comments", clean, out); err != nil {
		return 0, err
	}
	secs, err := exec.Command("soxi", "-D", clean).Output()
	if err != nil {
		return 0, fmt.Errorf("soxi: %w", err)
	}
	f, _ := strconv.ParseFloat(strings.TrimSpace(string(secs)), 64)
	return int(f * 1000), nil
}

// voiceRun is a stretch of text for one synthesizer voice.
type voiceRun struct {
	text, voice string // voice: "en" (festival), "en-espeak", "cmn"
}

// runs splits e's text by voice: English entries go to festival; zh-TW
// text to espeak's Mandarin, with its Latin words ("App", "QR", "hotmail")
// read by espeak's English, since its Mandarin voice reads Latin letters
// as pinyin.
func runs(e speech.Entry) []voiceRun {
	if e.Voice == "en" {
		return []voiceRun{{e.Text, "en"}}
	}
	var out []voiceRun
	var cur strings.Builder
	curLatin := false
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" && speakableText(s) {
			v := "cmn"
			if curLatin {
				v = "en-espeak"
			}
			out = append(out, voiceRun{s, v})
		}
		cur.Reset()
	}
	for _, r := range e.Text {
		latin := r < 0x80 && (r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
		neutral := r < 0x80 && !latin && !(r >= '0' && r <= '9')
		if !neutral && latin != curLatin && cur.Len() > 0 {
			flush()
		}
		if !neutral {
			curLatin = latin
		}
		cur.WriteRune(r)
	}
	flush()
	return out
}

func speakableText(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x2e7f
	}) >= 0
}

func synth(r voiceRun, wav string) error {
	switch r.voice {
	case "en":
		c := exec.Command("text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", wav)
		c.Stdin = strings.NewReader(r.text + "\n")
		return runCmd(c)
	case "en-espeak":
		return cmd("espeak-ng", "-v", "en-us", "-s", "150", "-w", wav, r.text)
	default:
		return cmd("espeak-ng", "-v", "cmn-latn-pinyin", "-s", "150", "-w", wav, r.text)
	}
}

func cmd(name string, args ...string) error { return runCmd(exec.Command(name, args...)) }

func runCmd(c *exec.Cmd) error {
	var stderr bytes.Buffer
	c.Stderr = &stderr
	c.Env = append(os.Environ(), "LANG=C.UTF-8")
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", c.Path, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
