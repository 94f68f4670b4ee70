package divisions

import (
	_ "embed"
	"io"
	"sync"
)

//go:embed data/strokes.bin.gz
var strokesGz []byte

// strokeTable holds one count per character from U+4E00 to U+9FFF
// (internal/genstrokes writes it).
var strokeTable = sync.OnceValue(func() []byte {
	b, err := io.ReadAll(gunzip(strokesGz))
	if err != nil || len(b) != lastHan-firstHan+1 {
		panic("divisions: embedded stroke table is damaged")
	}
	return b
})

const firstHan, lastHan = 0x4E00, 0x9FFF

// Strokes returns the number of strokes of the Chinese character r as
// Taiwan's standard counts them (華 12, 歡 22), or 0 for a rune outside
// the CJK Unified Ideographs block. Lists of Chinese names in Taiwan are
// ordered by it (筆畫).
func Strokes(r rune) int {
	if r < firstHan || r > lastHan {
		return 0
	}
	return int(strokeTable()[r-firstHan])
}
