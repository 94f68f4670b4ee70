package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/speech"
	"github.com/nhikiosk/nhikiosk/speech/voice"
)

// TestLibraryFresh fails when a message of the catalog (or a piece) has
// no recording, or its recording was made from another text than the
// catalog's now: run `go run ./cmd/speechgen` and commit speech/voice.
func TestLibraryFresh(t *testing.T) {
	lib, err := speech.OpenLibrary(voice.FS)
	if err != nil {
		t.Fatal(err)
	}
	m := lib.Manifest()
	if m.Settings != Settings {
		t.Errorf("the library was recorded with %q, the generator now uses %q: every clip is stale", m.Settings, Settings)
	}
	plan, err := PlanAll()
	if err != nil {
		t.Fatal(err)
	}
	d := Diff(m, plan)
	for what, list := range map[string][]string{"no recording": d.Missing, "stale recording": d.Stale, "recording nothing uses": d.Unused} {
		for i, k := range list {
			if i == 20 {
				t.Errorf("… and %d more with %s", len(list)-20, what)
				break
			}
			t.Errorf("%s: %s", what, k)
		}
	}
	if !d.Empty() {
		t.Log("run `go run ./cmd/speechgen` (needs festival, festvox-us-slt-hts, espeak-ng, sox, opus-tools) and commit speech/voice")
	}
	// Every clip listed is there, and a sample of them decodes to as much
	// sound as the manifest says.
	n := 0
	for lang, clips := range m.Clips {
		for id, info := range clips {
			c := speech.Clip{Lang: lang, ID: id}
			if _, err := fs.Stat(voice.FS, speech.ClipPath(c)); err != nil {
				t.Errorf("clip %s/%s: %v", lang, id, err)
				continue
			}
			if n++; n%97 != 0 {
				continue
			}
			samples := 0
			if err := lib.Stream(c, 16000, func(s []int16) bool { samples += len(s); return true }); err != nil {
				t.Errorf("clip %s/%s: %v", lang, id, err)
			}
			if ms := samples / 16; ms < info.Ms-40 || ms > info.Ms+80 {
				t.Errorf("clip %s/%s decodes to %d ms, the manifest says %d", lang, id, ms, info.Ms)
			}
		}
	}
}

// TestRecordOne runs the pipeline on one message where the synthesizers
// are installed (a developer's machine; CI does not need them).
func TestRecordOne(t *testing.T) {
	for _, tool := range []string{"text2wave", "espeak-ng", "sox", "soxi", "opusenc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: the generator's tools are only needed to record", tool)
		}
	}
	dir := t.TempDir()
	for _, e := range []speech.Entry{
		{Lang: display.LangEn, ID: "t.en", Text: "Insert your card.", Voice: display.LangEn},
		{Lang: display.LangZhTW, ID: "t.zh", Text: "請在手機的健保 App 掃描 QR 碼", Voice: display.LangZhTW},
	} {
		ms, err := recordClip(dir, e)
		if err != nil {
			t.Fatal(err)
		}
		lib, err := speech.OpenLibrary(fsWith(t, dir, e, ms))
		if err != nil {
			t.Fatal(err)
		}
		samples := 0
		if err := lib.Stream(speech.Clip{Lang: e.Lang, ID: e.ID}, 16000, func(s []int16) bool { samples += len(s); return true }); err != nil {
			t.Fatal(err)
		}
		if ms < 500 || samples < 16*ms-1000 {
			t.Errorf("%s: %d ms recorded, %d samples decoded", e.ID, ms, samples)
		}
	}
}

func fsWith(t *testing.T, dir string, e speech.Entry, ms int) fs.FS {
	t.Helper()
	m := speech.Manifest{Settings: Settings, Clips: map[string]map[string]speech.ClipInfo{e.Lang: {e.ID: {Hash: e.Hash(Settings), Ms: ms}}}}
	if err := writeManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	return osDirFS(filepath.Clean(dir))
}

func osDirFS(dir string) fs.FS { return os.DirFS(dir) }
