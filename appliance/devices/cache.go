package devices

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// The upstream's public reference data (the division list, the rules of
// the service) is kept on disk so a kiosk that restarts while the upstream
// is unreachable still shows the real lists and text. It is not personal
// data.

// save writes v as JSON to dir/name durably: temp file, fsync, rename,
// fsync of the directory.
func save(dir, name string, v any) error {
	if dir == "" {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cache %s: %w", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cache %s: %w", name, err)
	}
	f, err := os.CreateTemp(dir, name+".tmp-*")
	if err != nil {
		return fmt.Errorf("cache %s: %w", name, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("cache %s: write: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("cache %s: fsync: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cache %s: %w", name, err)
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("cache %s: rename: %w", name, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cache %s: %w", name, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("cache %s: fsync dir: %w", name, err)
	}
	return nil
}

// load reads dir/name into v; it reports false when there is no usable
// copy (none yet, or unreadable).
func load(dir, name string, v any) bool {
	if dir == "" {
		return false
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	return err == nil && json.Unmarshal(b, v) == nil
}
