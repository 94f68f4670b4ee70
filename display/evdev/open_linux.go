//go:build linux

package evdev

import (
	"encoding/binary"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// file is a touch device opened through its /dev/input node.
type file struct {
	*os.File
	info Info
}

func (f *file) Info() Info { return f.info }

// Open opens the device node of f and asks the kernel for its axes,
// preferring the multi-touch ones (EVIOCGABS). A device without a usable
// X and Y range is ErrNotTouch.
func Open(f Found) (Device, error) {
	fd, err := os.Open(f.DevNode)
	if err != nil {
		return nil, fmt.Errorf("evdev: open %s: %w", f.DevNode, err)
	}
	axis := func(code int) (Axis, int32, bool) {
		var info [24]byte // struct input_absinfo: value, minimum, maximum, fuzz, flat, resolution
		if ioctl(fd, eviocgabs(code), info[:]) != nil {
			return Axis{}, 0, false
		}
		le := binary.LittleEndian
		a := Axis{Min: int32(le.Uint32(info[4:])), Max: int32(le.Uint32(info[8:]))}
		return a, int32(le.Uint32(info[0:])), a.Max > a.Min
	}
	var in Info
	var okX, okY bool
	if in.X, in.PosX, okX = axis(AbsMTPosX); !okX {
		in.X, in.PosX, okX = axis(AbsX)
	}
	if in.Y, in.PosY, okY = axis(AbsMTPosY); !okY {
		in.Y, in.PosY, okY = axis(AbsY)
	}
	if !okX || !okY {
		fd.Close()
		return nil, fmt.Errorf("%w: %s has no absolute X and Y range", ErrNotTouch, f.DevNode)
	}
	if _, slot, ok := axis(AbsMTSlot); ok {
		in.Slot = slot
	}
	return &file{File: fd, info: in}, nil
}

// ioctl goes through SyscallConn, not Fd: Fd would put the file in
// blocking mode, and Close could then no longer end a Read.
func ioctl(f *os.File, req uintptr, buf []byte) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno unix.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(unsafe.Pointer(&buf[0])))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// eviocgabs is EVIOCGABS(abs) (linux/input.h).
func eviocgabs(abs int) uintptr { return ioc(2, 'E', uintptr(0x40+abs), 24) }

// ioc is the kernel's _IOC(dir, type, nr, size) on arm, arm64 and x86.
func ioc(dir, typ, nr, size uintptr) uintptr {
	return dir<<30 | size<<16 | typ<<8 | nr
}
