package ccid

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Found is a CCID reader found in sysfs.
type Found struct {
	SysPath string // e.g. /sys/devices/pci0000:00/0000:00:14.0/usb1/1-2 (symlinks resolved)
	DevNode string // its usbfs node, e.g. /dev/bus/usb/001/004
	Desc    Descriptor
}

// Scan lists the USB devices under sysRoot (normally /sys) that have a CCID
// interface, with their usbfs nodes under devRoot (normally /dev), in a
// stable order.
func Scan(sysRoot, devRoot string) ([]Found, error) {
	dir := filepath.Join(sysRoot, "bus", "usb", "devices")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("ccid: scan %s: %w", dir, err)
	}
	var out []Found
	for _, e := range ents {
		if strings.Contains(e.Name(), ":") {
			continue // an interface, not a device
		}
		p, err := filepath.EvalSymlinks(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // gone while we looked
		}
		f, err := Probe(p, devRoot)
		if errors.Is(err, ErrNotCCID) || errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SysPath < out[j].SysPath })
	return out, nil
}

// Probe reads one USB device's sysfs directory: its descriptors, and its
// bus and device numbers, which name the usbfs node. A device without a
// CCID interface is ErrNotCCID.
func Probe(sysPath, devRoot string) (Found, error) {
	raw, err := os.ReadFile(filepath.Join(sysPath, "descriptors"))
	if err != nil {
		return Found{}, fmt.Errorf("ccid: probe %s: %w", sysPath, err)
	}
	desc, err := ParseDescriptors(raw)
	if err != nil {
		return Found{}, fmt.Errorf("ccid: probe %s: %w", sysPath, err)
	}
	bus, err := readInt(filepath.Join(sysPath, "busnum"))
	if err != nil {
		return Found{}, err
	}
	dev, err := readInt(filepath.Join(sysPath, "devnum"))
	if err != nil {
		return Found{}, err
	}
	node := filepath.Join(devRoot, "bus", "usb", fmt.Sprintf("%03d", bus), fmt.Sprintf("%03d", dev))
	return Found{SysPath: sysPath, DevNode: node, Desc: desc}, nil
}

func readInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("ccid: probe: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("ccid: probe %s: %w", path, err)
	}
	return n, nil
}
