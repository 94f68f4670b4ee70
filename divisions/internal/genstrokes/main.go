// Command genstrokes writes divisions/data/strokes.bin.gz: the stroke
// count of every character of the CJK Unified Ideographs block (U+4E00–U+9FFF),
// one byte each, as Taiwan's standard counts them (艹 and 辶 are four
// strokes there, three in the mainland's count that Unihan's kTotalStrokes
// mostly follows: 華 is 12, not 10).
//
// Usage (Debian's unicode-data package has the Unihan files):
//
//	go run ./divisions/internal/genstrokes -unihan /usr/share/unicode
//
// How: CNS 11643 planes 1 and 2 (Taiwan's standard interchange code, 13,051
// characters) are ordered by stroke count as Taiwan counts them, then by
// radical. Walking a plane in code order, a radical number smaller than the
// one before starts the next stroke count. Each run gets the count most of
// its characters have in kTotalStrokes; runs are then pooled so the counts
// never decrease along the plane (isotonic regression), which gives the
// few runs made mostly of 艹 and 辶 characters their Taiwan count. A pooled
// run whose mean is not close to a whole number is an error. Characters in
// neither plane keep kTotalStrokes.
package main

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const first, last = 0x4E00, 0x9FFF

func main() {
	unihan := flag.String("unihan", "/usr/share/unicode", "directory with Unihan_IRGSources.txt.bz2")
	out := flag.String("out", "divisions/data/strokes.bin.gz", "table to write (gzip)")
	flag.Parse()
	table, err := build(filepath.Join(*unihan, "Unihan_IRGSources.txt.bz2"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "genstrokes:", err)
		os.Exit(1)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(table)
	zw.Close()
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genstrokes:", err)
		os.Exit(1)
	}
}

type char struct {
	strokes, radical int
	plane, code      int // CNS 11643 T-source, 0 if none
}

func build(path string) ([]byte, error) {
	chars, err := read(path)
	if err != nil {
		return nil, err
	}
	tw := map[rune]int{}
	for _, plane := range []int{1, 2} {
		if err := fromPlane(chars, plane, tw); err != nil {
			return nil, err
		}
	}
	table := make([]byte, last-first+1)
	for r := rune(first); r <= last; r++ {
		n, ok := tw[r]
		if !ok {
			n = chars[r].strokes
		}
		if n > 255 {
			return nil, fmt.Errorf("U+%04X: %d strokes", r, n)
		}
		table[r-first] = byte(n)
	}
	return table, nil
}

// read takes kTotalStrokes (the last value: zh-Hant's when two are
// given), kRSUnicode's radical and kIRG_TSource of each character.
func read(path string) (map[rune]char, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	chars := map[rune]char{}
	sc := bufio.NewScanner(bzip2.NewReader(f))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[0], "U+") {
			continue
		}
		cp, err := strconv.ParseUint(parts[0][2:], 16, 32)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", parts[0], err)
		}
		r := rune(cp)
		c := chars[r]
		switch v := parts[2]; parts[1] {
		case "kTotalStrokes":
			fs := strings.Fields(v)
			c.strokes, err = strconv.Atoi(fs[len(fs)-1])
		case "kRSUnicode":
			rad, _, _ := strings.Cut(strings.Fields(v)[0], ".")
			c.radical, err = strconv.Atoi(strings.TrimRight(rad, "'"))
		case "kIRG_TSource":
			p, code, ok := strings.Cut(strings.TrimPrefix(v, "T"), "-")
			if n, perr := strconv.ParseInt(p, 16, 32); ok && perr == nil && n <= 2 {
				c.plane = int(n)
				var k int64
				k, err = strconv.ParseInt(code, 16, 32)
				c.code = int(k)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", parts[0], parts[1], err)
		}
		chars[r] = c
	}
	return chars, sc.Err()
}

type run struct {
	sum, n int
	chars  []rune
}

func (r run) mean() float64 { return float64(r.sum) / float64(r.n) }

func fromPlane(chars map[rune]char, plane int, tw map[rune]int) error {
	var rs []rune
	for r, c := range chars {
		// Plane 1 keeps symbols and radicals below 0x4421, not in stroke order.
		if c.plane == plane && (plane != 1 || c.code >= 0x4421) {
			rs = append(rs, r)
		}
	}
	if len(rs) < 1000 {
		return fmt.Errorf("CNS 11643 plane %d: only %d characters", plane, len(rs))
	}
	slices.SortFunc(rs, func(a, b rune) int { return chars[a].code - chars[b].code })
	var runs []run
	prev := math.MaxInt
	for _, r := range rs {
		if c := chars[r]; c.radical < prev {
			runs = append(runs, run{})
		}
		prev = chars[r].radical
		runs[len(runs)-1].chars = append(runs[len(runs)-1].chars, r)
	}
	var pooled []run
	for _, rn := range runs {
		rn.n = len(rn.chars)
		rn.sum = mode(chars, rn.chars) * rn.n
		pooled = append(pooled, rn)
		for len(pooled) > 1 && pooled[len(pooled)-2].mean() > pooled[len(pooled)-1].mean() {
			a, b := pooled[len(pooled)-2], pooled[len(pooled)-1]
			pooled = append(pooled[:len(pooled)-2], run{sum: a.sum + b.sum, n: a.n + b.n, chars: append(a.chars, b.chars...)})
		}
	}
	for _, rn := range pooled {
		m := rn.mean()
		if math.Abs(m-math.Round(m)) > 0.2 {
			return errors.New("CNS 11643 plane " + strconv.Itoa(plane) + ": stroke runs do not settle on whole counts")
		}
		for _, r := range rn.chars {
			tw[r] = int(math.Round(m))
		}
	}
	return nil
}

// mode is the stroke count most of rs have.
func mode(chars map[rune]char, rs []rune) int {
	count := map[int]int{}
	best := 0
	for _, r := range rs {
		n := chars[r].strokes
		count[n]++
		if count[n] > count[best] || (count[n] == count[best] && n < best) {
			best = n
		}
	}
	return best
}
