package divisions

import (
	"runtime"
	"testing"
)

// BenchmarkParseBuiltin decompresses and parses the built-in list, as a
// kiosk or nhisim does once at start; it reports the heap the parsed list
// keeps.
func BenchmarkParseBuiltin(b *testing.B) {
	var l List
	for b.Loop() {
		var err error
		if l, err = Parse(gunzip(builtinCSV)); err != nil {
			b.Fatal(err)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l, _ = Parse(gunzip(builtinCSV))
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1024, "KiB-kept")
	runtime.KeepAlive(l)
}
