//go:build !linux

package ccid

import "errors"

// NetlinkUevents is only available on Linux.
func NetlinkUevents() (UeventSource, error) {
	return nil, errors.New("ccid: kernel uevents exist only on Linux")
}
