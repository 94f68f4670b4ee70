// Command speechgen records the kiosk's speech (issue 20): every message
// of the catalog (display, appliance, speech) in zh-TW and English, and
// the pieces values are said with, into Ogg Opus clips under speech/voice
// with a manifest of the hash of the text each was made from. It records
// only what is missing or stale, and removes clips nothing uses.
//
//	go run ./cmd/speechgen            # from the repository root
//	go run ./cmd/speechgen -check     # report, change nothing; exit 1 if stale
//
// It needs Debian's festival with festvox-us-slt-hts (English),
// espeak-ng (Mandarin), sox and opus-tools; the kiosk and its tests need
// none of them: the clips are committed.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/speech"
)

// Settings names how clips are made; it is part of every clip's hash.
const Settings = "en: festival cmu_us_slt_arctic_hts; zh-TW: espeak-ng cmn-latn-pinyin, Latin in en-us; " +
	"sox mono 16 kHz, silence trimmed, normalised to -1 dBFS, 20+80 ms pad; opusenc 16 kbit/s VBR speech 20 ms"

// Langs are the languages recorded.
var Langs = []string{display.LangZhTW, display.LangEn}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	out := flag.String("out", "speech/voice", "the library's directory")
	check := flag.Bool("check", false, "only report missing, stale and unused clips")
	jobs := flag.Int("j", 2, "clips recorded at once")
	flag.Parse()
	entries, err := PlanAll()
	if err != nil {
		return err
	}
	m, _ := readManifest(*out)
	d := Diff(m, entries)
	fmt.Printf("%d clips: %d missing, %d stale, %d unused\n", len(entries), len(d.Missing), len(d.Stale), len(d.Unused))
	if *check {
		if !d.Empty() {
			return errors.New("the speech library is out of date: run go run ./cmd/speechgen")
		}
		return nil
	}
	return record(*out, m, entries, d, *jobs)
}

// Catalog returns every message the kiosk shows or says.
func Catalog() (*display.Catalog, error) {
	cat := display.NewCatalog()
	if err := appliance.AddMessages(cat); err != nil {
		return nil, err
	}
	if err := speech.AddMessages(cat); err != nil {
		return nil, err
	}
	return cat, nil
}

// PlanAll lists every clip of every language.
func PlanAll() ([]speech.Entry, error) {
	cat, err := Catalog()
	if err != nil {
		return nil, err
	}
	pron := speech.Pronunciations()
	var all []speech.Entry
	for _, l := range Langs {
		all = append(all, speech.Plan(cat, l, pron[l])...)
	}
	return all, nil
}

// Difference is what a manifest lacks against a plan.
type Difference struct {
	Missing, Stale, Unused []string // "lang/id"
}

// Empty reports whether the library is up to date.
func (d Difference) Empty() bool { return len(d.Missing)+len(d.Stale)+len(d.Unused) == 0 }

// Diff compares the manifest with the plan.
func Diff(m speech.Manifest, plan []speech.Entry) Difference {
	var d Difference
	want := map[string]bool{}
	for _, e := range plan {
		k := e.Lang + "/" + e.ID
		want[k] = true
		got, ok := m.Clips[e.Lang][e.ID]
		switch {
		case !ok:
			d.Missing = append(d.Missing, k)
		case got.Hash != e.Hash(Settings):
			d.Stale = append(d.Stale, k)
		}
	}
	for l, clips := range m.Clips {
		for id := range clips {
			if !want[l+"/"+id] {
				d.Unused = append(d.Unused, l+"/"+id)
			}
		}
	}
	slices.Sort(d.Unused)
	return d
}

func readManifest(dir string) (speech.Manifest, error) {
	m := speech.Manifest{Clips: map[string]map[string]speech.ClipInfo{}}
	data, err := os.ReadFile(filepath.Join(dir, speech.ManifestFile))
	if err != nil {
		return m, err
	}
	err = json.Unmarshal(data, &m)
	if m.Clips == nil {
		m.Clips = map[string]map[string]speech.ClipInfo{}
	}
	return m, err
}

// record makes the missing and stale clips, removes the unused ones and
// writes the manifest (every 200 clips, so an interrupted run keeps what
// it made).
func record(dir string, m speech.Manifest, plan []speech.Entry, d Difference, jobs int) error {
	m.Settings = Settings
	todo := map[string]bool{}
	for _, k := range append(d.Missing, d.Stale...) {
		todo[k] = true
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	work := make(chan speech.Entry)
	done := 0
	for range max(1, jobs) {
		wg.Go(func() {
			for e := range work {
				ms, err := recordClip(dir, e)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s/%s: %w", e.Lang, e.ID, err))
				} else {
					if m.Clips[e.Lang] == nil {
						m.Clips[e.Lang] = map[string]speech.ClipInfo{}
					}
					m.Clips[e.Lang][e.ID] = speech.ClipInfo{Hash: e.Hash(Settings), Ms: ms}
					if done++; done%200 == 0 {
						fmt.Printf("%d/%d recorded\n", done, len(todo))
						writeManifest(dir, m)
					}
				}
				mu.Unlock()
			}
		})
	}
	for _, e := range plan {
		if todo[e.Lang+"/"+e.ID] {
			work <- e
		}
	}
	close(work)
	wg.Wait()
	for _, k := range d.Unused {
		l, id, _ := cut(k)
		delete(m.Clips[l], id)
		os.Remove(filepath.Join(dir, speech.ClipPath(speech.Clip{Lang: l, ID: id})))
	}
	if err := writeManifest(dir, m); err != nil {
		return err
	}
	return errors.Join(errs...)
}

func cut(k string) (string, string, bool) {
	for i := range k {
		if k[i] == '/' {
			return k[:i], k[i+1:], true
		}
	}
	return k, "", false
}

func writeManifest(dir string, m speech.Manifest) error {
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, speech.ManifestFile+".tmp")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, speech.ManifestFile))
}
