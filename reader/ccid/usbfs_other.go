//go:build !linux

package ccid

import (
	"errors"

	"github.com/nhikiosk/nhikiosk/reader"
)

// OpenUSB is only available on Linux (usbfs).
func OpenUSB(node string, desc Descriptor) (USB, error) {
	return nil, errors.Join(reader.ErrNoReader, errors.New("ccid: usbfs exists only on Linux"))
}
