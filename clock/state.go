package clock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// state is what the Keeper keeps on disk between runs.
type state struct {
	// Saved is the latest time the upstream vouched for (rule 4): the
	// floor of the next run.
	Saved time.Time `json:"saved"`
	// BootID is the kernel's boot id when the file was written; with
	// Source, From and Synced it lets a kiosk restarted in the same boot
	// keep saying where its clock came from.
	BootID string    `json:"boot_id,omitempty"`
	Source Kind      `json:"source,omitempty"`
	From   string    `json:"from,omitempty"`
	Synced time.Time `json:"synced,omitzero"`
}

// maxStateSize bounds the state file read.
const maxStateSize = 4 << 10

// loadState reads the state file; a missing file is the zero state.
func loadState(path string) (state, error) {
	var s state
	if path == "" {
		return s, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read clock state: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateSize))
	if err != nil {
		return s, fmt.Errorf("read clock state: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return state{}, fmt.Errorf("read clock state %s: %w", path, err)
	}
	return s, nil
}

// saveState writes s so that it survives a power cut: a temporary file,
// fsync, rename, fsync of the directory.
func saveState(path string, s state) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save clock state: %w", err)
	}
	f, err := os.CreateTemp(dir, ".clock-*")
	if err != nil {
		return fmt.Errorf("save clock state: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("save clock state: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("save clock state: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("save clock state: sync %s: %w", dir, err)
	}
	return nil
}

// kernelBootID is the kernel's id of this boot ("" where there is none).
func kernelBootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// ImageTime is when the running executable was built, by its file's
// modification time: gok writes each program into the image's squashfs
// with the time it built it, and the root file system is read-only, so
// on the appliance this is the image's build time. The kiosk cannot run
// before it, which makes it a floor. Zero if unknown.
func ImageTime() time.Time {
	exe, err := os.Executable()
	if err != nil {
		return time.Time{}
	}
	st, err := os.Stat(exe)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}
