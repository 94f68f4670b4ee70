package panel

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Backlight dims and wakes the display through the kernel's backlight
// class (/sys/class/backlight/NAME/brightness). A nil *Backlight is a
// display without one: its methods do nothing.
type Backlight struct {
	dir string
	max int
	// DimPercent is the brightness of the attract screen, in percent of
	// the maximum.
	DimPercent int
}

// OpenBacklight opens /sys/class/backlight/name under sysRoot (normally
// "/sys"). An empty name means no backlight control: it returns nil, nil.
func OpenBacklight(sysRoot, name string) (*Backlight, error) {
	if name == "" {
		return nil, nil
	}
	if strings.ContainsAny(name, "/\\") || name == "." || name == ".." {
		return nil, fmt.Errorf("panel: backlight name %q", name)
	}
	dir := filepath.Join(sysRoot, "class", "backlight", name)
	raw, err := os.ReadFile(filepath.Join(dir, "max_brightness"))
	if err != nil {
		return nil, fmt.Errorf("panel: open backlight: %w", err)
	}
	max, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || max <= 0 {
		return nil, fmt.Errorf("panel: open backlight: max_brightness %q", strings.TrimSpace(string(raw)))
	}
	return &Backlight{dir: dir, max: max, DimPercent: 20}, nil
}

// Wake sets full brightness.
func (b *Backlight) Wake() error { return b.set(100) }

// Dim sets the attract screen's brightness.
func (b *Backlight) Dim() error {
	if b == nil {
		return nil
	}
	return b.set(b.DimPercent)
}

// set writes percent of the maximum (at least 1, so the screen stays
// readable). sysfs attributes are not files on a disk: one write, no
// fsync.
func (b *Backlight) set(percent int) error {
	if b == nil {
		return nil
	}
	v := max(1, min(b.max, b.max*percent/100))
	if err := os.WriteFile(filepath.Join(b.dir, "brightness"), []byte(strconv.Itoa(v)+"\n"), 0); err != nil {
		return fmt.Errorf("panel: set backlight: %w", err)
	}
	return nil
}
