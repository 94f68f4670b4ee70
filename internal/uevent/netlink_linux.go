//go:build linux

package uevent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// netlinkSource reads kernel uevents from a NETLINK_KOBJECT_UEVENT socket
// bound to the kernel's multicast group; there is no udev on gokrazy. The
// socket is non-blocking and waits in Go's poller, so a kiosk with
// nothing plugged in never wakes up for it.
type netlinkSource struct {
	f   *os.File
	rc  syscall.RawConn
	buf []byte
}

// rcvBuf is the receive buffer asked for: a USB hub with a reader and a
// touch panel behind it announces dozens of objects at once.
const rcvBuf = 1 << 20

// Netlink opens the kernel's uevent socket.
func Netlink() (Source, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_KOBJECT_UEVENT)
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
	f := os.NewFile(uintptr(fd), "uevent") // non-blocking: pollable
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("uevent: socket: %w", err)
	}
	return &netlinkSource{f: f, rc: rc, buf: make([]byte, 16384)}, nil
}

// Next returns the next kernel uevent, skipping messages that are not
// from the kernel or do not parse. ENOBUFS (the kernel dropped events for
// us) is ErrOverflow.
func (n *netlinkSource) Next(ctx context.Context) (Event, error) {
	n.f.SetReadDeadline(time.Time{})
	// ctx ending wakes the read through its deadline.
	stop := context.AfterFunc(ctx, func() { n.f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	for {
		if err := ctx.Err(); err != nil {
			return Event{}, err
		}
		var k int
		var from unix.Sockaddr
		var rerr error
		err := n.rc.Read(func(fd uintptr) bool {
			k, from, rerr = unix.Recvfrom(int(fd), n.buf, unix.MSG_DONTWAIT)
			return !errors.Is(rerr, unix.EAGAIN) // EAGAIN: wait in the poller
		})
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil:
			n.f.SetReadDeadline(time.Time{}) // a late wake-up from an earlier ctx
			continue
		case err != nil && ctx.Err() != nil:
			return Event{}, ctx.Err()
		case err != nil:
			return Event{}, fmt.Errorf("uevent: read: %w", err)
		case errors.Is(rerr, unix.EINTR):
			continue
		case errors.Is(rerr, unix.ENOBUFS):
			return Event{}, ErrOverflow
		case rerr != nil:
			return Event{}, fmt.Errorf("uevent: read: %w", rerr)
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

// Close closes the socket; a Next in progress returns.
func (n *netlinkSource) Close() error { return n.f.Close() }
