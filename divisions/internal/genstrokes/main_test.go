package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"

	"github.com/nhikiosk/nhikiosk/internal/itest"
)

// TestTableIsGenerated regenerates the stroke table from the installed
// Unihan files and compares it with the one the divisions package embeds.
func TestTableIsGenerated(t *testing.T) {
	path := itest.File(t, "/usr/share/unicode/Unihan_IRGSources.txt.bz2", "unicode-data")
	want, err := build(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../data/strokes.bin.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("data/strokes.bin.gz is not what genstrokes makes of %s: run it again", path)
	}
}
