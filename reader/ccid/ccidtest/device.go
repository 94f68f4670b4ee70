package ccidtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/nhikiosk/nhikiosk/internal/uevent"
	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/ccid"
)

// NewDevice is the kiosk's CCID backend (ccid.NewDevice) over r: a fake
// sysfs tree under root (a temporary directory) announces r as one USB
// reader, and claiming it opens r. Everything above the USB pipes is the
// real code: the monitor, power-on, T=1, the APDU layer. Call Run as for
// any reader.Device; r's cards come and go with Insert and Remove.
func NewDevice(root string, r *Reader) (reader.Device, error) {
	dev := filepath.Join(root, "devices", "pci0000:00", "usb1", "1-2")
	links := filepath.Join(root, "bus", "usb", "devices")
	for _, d := range []string{dev, links} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("ccidtest: %w", err)
		}
	}
	for name, b := range map[string][]byte{"descriptors": Descriptors(r.Level), "busnum": []byte("1\n"), "devnum": []byte("4\n")} {
		if err := os.WriteFile(filepath.Join(dev, name), b, 0o644); err != nil {
			return nil, fmt.Errorf("ccidtest: %w", err)
		}
	}
	if err := os.Symlink(dev, filepath.Join(links, "1-2")); err != nil {
		return nil, fmt.Errorf("ccidtest: %w", err)
	}
	return ccid.NewDevice(ccid.Options{SysRoot: root, DevRoot: "/dev", Uevents: noUevents{},
		Open: func(ccid.Found) (ccid.USB, error) { return r, nil },
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil))}), nil
}

// noUevents is a hotplug source where nothing is ever plugged.
type noUevents struct{}

func (noUevents) Next(ctx context.Context) (uevent.Event, error) {
	<-ctx.Done()
	return uevent.Event{}, ctx.Err()
}

func (noUevents) Close() error { return nil }
