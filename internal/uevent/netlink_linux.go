//go:build linux

package uevent

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// netlinkSource reads kernel uevents from a NETLINK_KOBJECT_UEVENT socket
// bound to the kernel's multicast group; there is no udev on gokrazy.
type netlinkSource struct {
	fd   int
	once sync.Once
	buf  []byte
}

// rcvBuf is the receive buffer asked for: a USB hub with a reader and a
// touch panel behind it announces dozens of objects at once.
const rcvBuf = 1 << 20

// Netlink opens the kernel's uevent socket.
func Netlink() (Source, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		return nil, fmt.Errorf("uevent: socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("uevent: bind socket: %w", err)
	}
	// A larger buffer makes overflows rarer; FORCE needs CAP_NET_ADMIN
	// (the kiosk is root on gokrazy), the plain one is capped by rmem_max.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBuf)
	}
	// A receive timeout lets Next look at its context every second.
	tv := unix.Timeval{Sec: 1}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("uevent: socket timeout: %w", err)
	}
	return &netlinkSource{fd: fd, buf: make([]byte, 16384)}, nil
}

// Next returns the next kernel uevent, skipping messages that are not
// from the kernel or do not parse. ENOBUFS (the kernel dropped events for
// us) is ErrOverflow.
func (n *netlinkSource) Next(ctx context.Context) (Event, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Event{}, err
		}
		k, from, err := unix.Recvfrom(n.fd, n.buf, 0)
		switch {
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOBUFS):
			return Event{}, ErrOverflow
		case err != nil:
			return Event{}, fmt.Errorf("uevent: read: %w", err)
		}
		if nl, ok := from.(*unix.SockaddrNetlink); !ok || nl.Pid != 0 {
			continue // not the kernel
		}
		u, err := Parse(n.buf[:k])
		if err != nil {
			continue
		}
		return u, nil
	}
}

// Close closes the socket.
func (n *netlinkSource) Close() error {
	err := errors.New("uevent: closed twice")
	n.once.Do(func() { err = unix.Close(n.fd) })
	return err
}
