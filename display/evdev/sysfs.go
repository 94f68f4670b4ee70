package evdev

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Found is a touch device found in sysfs.
type Found struct {
	SysPath string // the event device, e.g. /sys/devices/…/input/input5/event3 (symlinks resolved)
	DevNode string // its node, e.g. /dev/input/event3
	Name    string // what the driver calls it, e.g. "generic ft5x06 (79)", "QEMU QEMU USB Tablet"
}

// ErrNotTouch means an input device reports no absolute position a
// finger could give (a keyboard, a mouse, a touchpad, a joystick).
var ErrNotTouch = errors.New("evdev: not a touch device")

// Scan lists the touch devices under sysRoot (normally /sys) with their
// nodes under devRoot (normally /dev), in a stable order.
func Scan(sysRoot, devRoot string) ([]Found, error) {
	dir := filepath.Join(sysRoot, "class", "input")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("evdev: scan %s: %w", dir, err)
	}
	var out []Found
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "event") {
			continue // inputN, mouseN, jsN
		}
		p, err := filepath.EvalSymlinks(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // gone while we looked
		}
		f, err := Probe(p, devRoot)
		if errors.Is(err, ErrNotTouch) || errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DevNode < out[j].DevNode })
	return out, nil
}

// Probe reads one event device's sysfs directory (…/inputN/eventM): the
// capabilities of its input device (the parent directory) say whether it
// is a touch device, its uevent file names its node. A device that is
// not a touch device is ErrNotTouch.
func Probe(sysPath, devRoot string) (Found, error) {
	input := filepath.Dir(sysPath)
	abs, err := readBits(filepath.Join(input, "capabilities", "abs"))
	if err != nil {
		return Found{}, err
	}
	key, err := readBits(filepath.Join(input, "capabilities", "key"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Found{}, err
	}
	props, err := readBits(filepath.Join(input, "properties"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Found{}, err
	}
	name := readLine(filepath.Join(input, "name"))
	if !isTouch(abs, key, props) {
		return Found{}, fmt.Errorf("%w: %s (%q)", ErrNotTouch, sysPath, name)
	}
	node := "input/" + filepath.Base(sysPath)
	if u, err := os.ReadFile(filepath.Join(sysPath, "uevent")); err == nil {
		for _, l := range strings.Split(string(u), "\n") {
			if v, ok := strings.CutPrefix(l, "DEVNAME="); ok && v != "" {
				node = v
			}
		}
	}
	return Found{SysPath: sysPath, DevNode: filepath.Join(devRoot, node), Name: name}, nil
}

// isTouch says whether capabilities are those of something a finger
// points with on the screen: multi-touch position axes, or X and Y with
// a touch or left button (a single-touch panel, an absolute tablet).
// Touchpads (INPUT_PROP_POINTER without INPUT_PROP_DIRECT) move a cursor
// relative to where it was, so they are not.
func isTouch(abs, key, props bitmap) bool {
	if props.has(PropPointer) && !props.has(PropDirect) {
		return false
	}
	if abs.has(AbsMTPosX) && abs.has(AbsMTPosY) {
		return true
	}
	return abs.has(AbsX) && abs.has(AbsY) && (key.has(BtnTouch) || key.has(BtnLeft))
}

// bitmap is a sysfs capability bitmap: bit n of the kernel's array of
// longs.
type bitmap []uint64

func (b bitmap) has(n int) bool {
	return n/64 < len(b) && b[n/64]&(1<<(n%64)) != 0
}

// parseBits decodes a capability file: hexadecimal longs separated by
// spaces, most significant first ("3", "260800000000003",
// "1000000000007 ff9f207ac14057ff …"). A long is as wide as this
// machine's (the kiosk runs on its own kernel's word size).
func parseBits(s string) (bitmap, error) {
	words := strings.Fields(s)
	var b bitmap
	for i := len(words) - 1; i >= 0; i-- {
		v, err := strconv.ParseUint(words[i], 16, bits.UintSize)
		if err != nil {
			return nil, fmt.Errorf("evdev: capability bitmap %.40q: %w", s, err)
		}
		pos := (len(words) - 1 - i) * bits.UintSize
		for len(b) <= pos/64 {
			b = append(b, 0)
		}
		b[pos/64] |= v << (pos % 64)
	}
	return b, nil
}

func readBits(path string) (bitmap, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("evdev: probe: %w", err)
	}
	return parseBits(string(raw))
}

func readLine(path string) string {
	raw, _ := os.ReadFile(path)
	return strings.TrimSpace(string(raw))
}
