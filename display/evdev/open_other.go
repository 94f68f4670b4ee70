//go:build !linux

package evdev

import "errors"

// Open is only available on Linux.
func Open(Found) (Device, error) {
	return nil, errors.New("evdev: input devices exist only on Linux")
}
