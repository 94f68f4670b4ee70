package speech

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"

	"github.com/nhikiosk/nhikiosk/display"
)

//go:embed messages/*.json
var messages embed.FS

// AddMessages adds the words speech adds to what is on screen ("button",
// "checked", the keys' help) in zh-TW and en.
func AddMessages(cat *display.Catalog) error {
	if err := cat.AddFS(messages, "messages"); err != nil {
		return fmt.Errorf("speech messages: %w", err)
	}
	return nil
}

//go:embed pronounce/*.json
var pronounce embed.FS

// Pronunciations returns, per language, the texts read instead of the
// catalog's where the catalog's reads badly.
func Pronunciations() map[string]map[string]string {
	out := map[string]map[string]string{}
	files, _ := fs.Glob(pronounce, "pronounce/*.json")
	for _, f := range files {
		data, _ := fs.ReadFile(pronounce, f)
		m := map[string]string{}
		if err := json.Unmarshal(data, &m); err != nil {
			panic(fmt.Sprintf("speech: %s: %v", f, err)) // embedded; a test reads it
		}
		out[f[len("pronounce/"):len(f)-len(".json")]] = m
	}
	return out
}
