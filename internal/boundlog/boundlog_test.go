package boundlog

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestLinesAreBounded(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(New(slog.NewTextHandler(&buf, nil), 256))
	huge := strings.Repeat("x", 2<<20)
	type packet struct {
		Topic   string
		Payload []byte
	}
	log.With("conn", huge).Warn(huge, "s", huge, "b", []byte(huge), "err", errors.New(huge),
		"pk", packet{"t", []byte(huge)}, slog.Group("g", "inner", huge))
	for i := range 100 {
		log.Info("many", "i", i, "a1", 1, "a2", 2, "a3", 3, "a4", 4, "a5", 5, "a6", 6, "a7", 7, "a8", 8, "a9", 9,
			"b1", 1, "b2", 2, "b3", 3, "b4", 4, "b5", 5, "b6", 6, "b7", 7, "b8", 8, "b9", 9, "c1", 1, "c2", 2, "c3", 3,
			"c4", 4, "c5", 5, "c6", 6, "c7", 7, "c8", 8, "c9", 9, "d1", 1, "d2", 2, "d3", 3, "d4", 4, "d5", 5, "d6", 6)
	}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if len(line) > 8<<10 {
			t.Fatalf("log line of %d bytes, want at most 8 KiB: %.200s…", len(line), line)
		}
	}
	if !strings.Contains(buf.String(), "attrs_dropped=2") {
		t.Errorf("attributes over %d not counted as dropped:\n%.500s", MaxAttrs, buf.String())
	}
}

func TestCut(t *testing.T) {
	for _, tt := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 32, "short"},
		{strings.Repeat("a", 40), 32, strings.Repeat("a", 16) + "…(+24 bytes)"},
		{strings.Repeat("健", 20), 32, strings.Repeat("健", 5) + "…(+45 bytes)"},
	} {
		if got := Cut(tt.in, tt.max); got != tt.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}
