//go:build linux

package ccid

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nhikiosk/nhikiosk/reader"
)

// bulkTransfer is struct usbdevfs_bulktransfer (linux/usbdevice_fs.h); Go
// pads it like C does on 32- and 64-bit platforms.
type bulkTransfer struct {
	ep, len, timeout uint32
	data             uintptr
}

// ioctl request numbers of usbfs: _IOWR('U', 2, bulkTransfer) and
// _IOR('U', 15/16/21, unsigned int).
var (
	usbdevfsBulk             = ioc(3, 2, unsafe.Sizeof(bulkTransfer{}))
	usbdevfsClaimInterface   = ioc(2, 15, 4)
	usbdevfsReleaseInterface = ioc(2, 16, 4)
	usbdevfsClearHalt        = ioc(2, 21, 4)
)

func ioc(dir, nr, size uintptr) uintptr { return dir<<30 | size<<16 | 'U'<<8 | nr }

// interruptSlice is how long one interrupt transfer waits before Interrupt
// looks at ctx again. A NotifySlotChange is one packet, so nothing is lost
// between slices.
const interruptSlice = time.Second

// usbfs is a CCID interface claimed through /dev/bus/usb/BBB/DDD.
type usbfs struct {
	f    *os.File
	fd   uintptr
	desc Descriptor
}

// OpenUSB opens the usbfs node of a reader (e.g. /dev/bus/usb/001/004)
// and claims its CCID interface.
func OpenUSB(node string, desc Descriptor) (USB, error) {
	f, err := os.OpenFile(node, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("ccid: open %s: %w", node, err)
	}
	u := &usbfs{f: f, fd: f.Fd(), desc: desc}
	iface := uint32(desc.Interface)
	if err := u.ioctl(usbdevfsClaimInterface, unsafe.Pointer(&iface)); err != nil {
		f.Close()
		return nil, fmt.Errorf("ccid: claim interface %d of %s: %w", iface, node, err)
	}
	return u, nil
}

func (u *usbfs) ioctl(req uintptr, arg unsafe.Pointer) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, u.fd, req, uintptr(arg))
	if errno != 0 {
		return errno
	}
	return nil
}

// bulk runs one synchronous transfer on ep; timeout 0 waits for ever.
func (u *usbfs) bulk(ep byte, p []byte, timeout time.Duration) (int, error) {
	if len(p) == 0 {
		p = make([]byte, 0, 1)
	}
	bt := bulkTransfer{ep: uint32(ep), len: uint32(len(p)), timeout: uint32(timeout.Milliseconds())}
	bt.data = uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	n, _, errno := unix.Syscall(unix.SYS_IOCTL, u.fd, usbdevfsBulk, uintptr(unsafe.Pointer(&bt)))
	runtime.KeepAlive(p)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// wrap names the failure, mapping a vanished device to ErrReaderUnplugged.
func (u *usbfs) wrap(op string, err error) error {
	switch {
	case errors.Is(err, unix.ENODEV), errors.Is(err, unix.ESHUTDOWN), errors.Is(err, unix.EPROTO):
		return fmt.Errorf("ccid: %s: %w (%w)", op, reader.ErrReaderUnplugged, err)
	case errors.Is(err, unix.EPIPE):
		return fmt.Errorf("ccid: %s: endpoint stalled: %w", op, err)
	}
	return fmt.Errorf("ccid: %s: %w", op, err)
}

// timeout returns the time left until ctx's deadline, or 0 (no limit).
func timeout(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	d, ok := ctx.Deadline()
	if !ok {
		return 0, nil
	}
	left := time.Until(d)
	if left < time.Millisecond {
		return 0, context.DeadlineExceeded
	}
	return left, nil
}

// Write sends one bulk-out transfer. Its length is bounded by ctx's
// deadline.
func (u *usbfs) Write(ctx context.Context, p []byte) error {
	t, err := timeout(ctx)
	if err != nil {
		return err
	}
	if _, err := u.bulk(u.desc.BulkOut, p, t); err != nil {
		if errors.Is(err, unix.ETIMEDOUT) {
			return fmt.Errorf("ccid: bulk out: %w", context.DeadlineExceeded)
		}
		return u.wrap("bulk out", err)
	}
	return nil
}

// Read receives one bulk-in transfer. It is one transfer bounded by ctx's
// deadline (cancellation without a deadline is not seen until the reader
// answers): cutting a multi-packet CCID message into several transfers
// could lose part of it.
func (u *usbfs) Read(ctx context.Context, p []byte) (int, error) {
	t, err := timeout(ctx)
	if err != nil {
		return 0, err
	}
	n, err := u.bulk(u.desc.BulkIn, p, t)
	if err != nil {
		if errors.Is(err, unix.ETIMEDOUT) {
			return 0, fmt.Errorf("ccid: bulk in: %w", context.DeadlineExceeded)
		}
		if errors.Is(err, unix.EPIPE) {
			ep := uint32(u.desc.BulkIn)
			_ = u.ioctl(usbdevfsClearHalt, unsafe.Pointer(&ep))
		}
		return 0, u.wrap("bulk in", err)
	}
	return n, nil
}

// Interrupt waits for one interrupt-in transfer, looking at ctx every
// second.
func (u *usbfs) Interrupt(ctx context.Context, p []byte) (int, error) {
	if u.desc.Interrupt == 0 {
		return 0, ErrNoInterrupt
	}
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := u.bulk(u.desc.Interrupt, p, interruptSlice)
		if errors.Is(err, unix.ETIMEDOUT) {
			continue
		}
		if err != nil {
			return 0, u.wrap("interrupt in", err)
		}
		return n, nil
	}
}

// Close releases the interface and closes the node.
func (u *usbfs) Close() error {
	iface := uint32(u.desc.Interface)
	_ = u.ioctl(usbdevfsReleaseInterface, unsafe.Pointer(&iface))
	return u.f.Close()
}
