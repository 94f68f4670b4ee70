//go:build linux

package ccid

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// netlinkUevents reads kernel uevents from a NETLINK_KOBJECT_UEVENT socket
// bound to the kernel's multicast group; there is no udev on gokrazy.
type netlinkUevents struct{ fd int }

// NetlinkUevents opens the kernel's uevent socket.
func NetlinkUevents() (UeventSource, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		return nil, fmt.Errorf("ccid: uevent socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("ccid: bind uevent socket: %w", err)
	}
	// A receive timeout lets Next look at its context every second.
	tv := unix.Timeval{Sec: 1}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("ccid: uevent socket timeout: %w", err)
	}
	return &netlinkUevents{fd: fd}, nil
}

// Next returns the next kernel uevent, skipping messages that are not
// from the kernel or do not parse.
func (n *netlinkUevents) Next(ctx context.Context) (Uevent, error) {
	buf := make([]byte, 8192)
	for {
		if err := ctx.Err(); err != nil {
			return Uevent{}, err
		}
		k, from, err := unix.Recvfrom(n.fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return Uevent{}, fmt.Errorf("ccid: read uevent: %w", err)
		}
		if nl, ok := from.(*unix.SockaddrNetlink); !ok || nl.Pid != 0 {
			continue // not the kernel
		}
		u, err := ParseUevent(buf[:k])
		if err != nil {
			continue
		}
		return u, nil
	}
}

// Close closes the socket.
func (n *netlinkUevents) Close() error { return unix.Close(n.fd) }
