package display

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
)

// Languages the kiosk speaks today. More are added by adding catalog files.
const (
	LangZhTW = "zh-TW"
	LangEn   = "en"
)

// Catalog holds every string a citizen sees, per language and key. Packages
// add their own keys (Add, AddJSON, AddFS); Missing reports keys that one
// language has and another lacks, so a test can fail on them. It is safe
// for concurrent use.
//
// Texts may hold named placeholders, "{n}", filled by Text's arguments.
type Catalog struct {
	mu   sync.RWMutex
	msgs map[string]map[string]string
}

//go:embed messages/*.json
var ownMessages embed.FS

// NewCatalog returns a catalog holding the display package's own keys
// (keyboard, dialogs, step counter, strength meter) in zh-TW and en.
func NewCatalog() *Catalog {
	c := &Catalog{msgs: map[string]map[string]string{}}
	if err := c.AddFS(ownMessages, "messages"); err != nil {
		panic(err) // embedded at build time; a test covers it
	}
	return c
}

// Add sets the text of key in lang.
func (c *Catalog) Add(lang, key, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.msgs[lang]
	if m == nil {
		m = map[string]string{}
		c.msgs[lang] = m
	}
	m[key] = text
}

// AddJSON adds a flat JSON object of key → text for lang.
func (c *Catalog) AddJSON(lang string, data []byte) error {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("catalog %s: %w", lang, err)
	}
	for k, v := range m {
		c.Add(lang, k, v)
	}
	return nil
}

// AddFS adds every dir/<lang>.json of fsys (e.g. an embed.FS of a
// package's messages), the file name being the language.
func (c *Catalog) AddFS(fsys fs.FS, dir string) error {
	files, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return fmt.Errorf("catalog files: %w", err)
	}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return fmt.Errorf("catalog files: %w", err)
		}
		if err := c.AddJSON(strings.TrimSuffix(path.Base(f), ".json"), data); err != nil {
			return fmt.Errorf("catalog file %s: %w", f, err)
		}
	}
	return nil
}

// Has reports whether lang has key.
func (c *Catalog) Has(lang, key string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.msgs[lang][key]
	return ok
}

// Text returns key's text in lang with placeholders filled from args, given
// as name, value pairs: Text("en", "display.step", "n", 2, "total", 5). A
// key missing in lang falls back to zh-TW, then to the key itself in
// brackets, so a gap shows on screen and in golden images rather than as
// empty space.
func (c *Catalog) Text(lang, key string, args ...any) string {
	c.mu.RLock()
	s, ok := c.msgs[lang][key]
	if !ok {
		s, ok = c.msgs[LangZhTW][key]
	}
	c.mu.RUnlock()
	if !ok {
		return "[" + key + "]"
	}
	for i := 0; i+1 < len(args); i += 2 {
		v := args[i+1]
		if m, ok := v.(Msg); ok {
			// A message as a value ("{label}: {value}") is shown in the
			// same language.
			v = m.Lit
			if m.Key != "" {
				v = c.Text(lang, m.Key, m.Args...)
			}
		}
		s = strings.ReplaceAll(s, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(v))
	}
	return s
}

// Keys returns the keys lang has, sorted.
func (c *Catalog) Keys(lang string) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	keys := make([]string, 0, len(c.msgs[lang]))
	for k := range c.msgs[lang] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Langs returns the languages present, sorted.
func (c *Catalog) Langs() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var ls []string
	for l := range c.msgs {
		ls = append(ls, l)
	}
	slices.Sort(ls)
	return ls
}

// Missing returns "lang: key" for every key that one of langs has and
// another lacks (all languages present if langs is empty), sorted.
func (c *Catalog) Missing(langs ...string) []string {
	if len(langs) == 0 {
		langs = c.Langs()
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	all := map[string]bool{}
	for _, l := range langs {
		for k := range c.msgs[l] {
			all[k] = true
		}
	}
	var miss []string
	for _, l := range langs {
		for k := range all {
			if _, ok := c.msgs[l][k]; !ok {
				miss = append(miss, l+": "+k)
			}
		}
	}
	slices.Sort(miss)
	return miss
}
