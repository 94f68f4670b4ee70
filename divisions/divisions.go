// Package divisions owns Taiwan's administrative divisions as the kiosk
// and the reference upstream know them: the official list shipped with the
// code (22 counties and cities, 368 townships and districts, 7,747 villages,
// with the Ministry of the Interior's codes and official English names;
// data/README.md says where it comes from), its CSV form, lookups by code,
// and the stroke counts by which Taiwan orders Chinese names.
//
// It is pure data and imports nothing of ours: the upstream serves and
// checks addresses with it, the kiosk falls back on it when it has never
// heard from the upstream.
package divisions

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"sync"
)

// Division is a county or city (縣市), a township or district (鄉鎮市區) or
// a village (村里): its official code, its Chinese and English names, and
// the divisions under it.
type Division struct {
	Code     string
	Zh, En   string
	Children []Division
}

// List is a whole division list: the date it took effect, as YYYY-MM-DD
// (a later date is a newer list), and the counties.
type List struct {
	Version  string
	Counties []Division
}

// BuiltinVersion is the version of the list shipped with the code: the
// date of the source's table (data/README.md).
const BuiltinVersion = "2023-09-06"

//go:embed data/taiwan.csv.gz
var builtinCSV []byte

var builtin = sync.OnceValue(func() List {
	l, err := Parse(gunzip(builtinCSV))
	if err != nil {
		panic(fmt.Sprintf("divisions: built-in list: %v", err))
	}
	l.Version = BuiltinVersion
	return l
})

// Builtin returns the list shipped with the code, parsed on first use.
// Callers share it and must not change it.
func Builtin() List { return builtin() }

func gunzip(b []byte) io.Reader {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		panic(fmt.Sprintf("divisions: embedded data: %v", err))
	}
	return zr
}

// Find returns the division with code among ds, or nil.
func Find(ds []Division, code string) *Division {
	for i := range ds {
		if ds[i].Code == code {
			return &ds[i]
		}
	}
	return nil
}

// Address returns the county, township and village with these codes,
// each under the one before; nil from the first that is not there.
func (l List) Address(county, township, village string) (c, t, v *Division) {
	if c = Find(l.Counties, county); c == nil {
		return nil, nil, nil
	}
	if t = Find(c.Children, township); t == nil {
		return c, nil, nil
	}
	return c, t, Find(t.Children, village)
}

// Counts returns how many counties, townships and villages l has.
func (l List) Counts() (counties, townships, villages int) {
	for _, c := range l.Counties {
		townships += len(c.Children)
		for _, t := range c.Children {
			villages += len(t.Children)
		}
	}
	return len(l.Counties), townships, villages
}

// Newer reports whether version a is later than b (both YYYY-MM-DD; an
// empty version is older than any other).
func Newer(a, b string) bool { return a > b }
