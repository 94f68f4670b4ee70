package ccid

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
)

// Uevent is one kernel object event (netlink NETLINK_KOBJECT_UEVENT), as
// the kernel sends it: "ACTION@DEVPATH\0KEY=VALUE\0…".
type Uevent struct {
	Action    string // add, remove, bind, unbind, change, …
	DevPath   string // under /sys, e.g. /devices/…/usb1/1-2
	Subsystem string
	DevType   string // usb_device, usb_interface, …
	Env       map[string]string
}

// ErrUevent means a netlink message is not a kernel uevent (udev's own
// "libudev" messages included).
var ErrUevent = errors.New("ccid: not a kernel uevent")

// ParseUevent decodes one kernel uevent message.
func ParseUevent(p []byte) (Uevent, error) {
	fields := bytes.Split(bytes.TrimRight(p, "\x00"), []byte{0})
	head := string(fields[0])
	action, path, ok := strings.Cut(head, "@")
	if !ok || action == "" || !strings.HasPrefix(path, "/") {
		return Uevent{}, fmt.Errorf("%w: header %.40q", ErrUevent, head)
	}
	u := Uevent{Env: make(map[string]string, len(fields))}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(string(f), "=")
		if !ok || k == "" {
			return Uevent{}, fmt.Errorf("%w: field %.40q", ErrUevent, f)
		}
		u.Env[k] = v
	}
	u.Action, u.DevPath = u.Env["ACTION"], u.Env["DEVPATH"]
	if u.Action != action || u.DevPath != path {
		return Uevent{}, fmt.Errorf("%w: header %.40q disagrees with ACTION/DEVPATH", ErrUevent, head)
	}
	u.Subsystem, u.DevType = u.Env["SUBSYSTEM"], u.Env["DEVTYPE"]
	return u, nil
}

// UeventSource delivers kernel uevents. Next blocks until one arrives or
// ctx ends. The netlink implementation is NetlinkUevents.
type UeventSource interface {
	Next(ctx context.Context) (Uevent, error)
	Close() error
}
