//go:build !linux

package uevent

import "errors"

// Netlink is only available on Linux.
func Netlink() (Source, error) {
	return nil, errors.New("uevent: kernel uevents exist only on Linux")
}
