package fbdev

import (
	"encoding/binary"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Console ioctl and modes (linux/kd.h).
const (
	kdSetMode  = 0x4B3A
	kdText     = 0
	kdGraphics = 1
)

// Framebuffer ioctls (linux/fb.h).
const (
	fbiogetVScreenInfo = 0x4600
	fbiogetFScreenInfo = 0x4602
)

func ioctl(f *os.File, req uintptr, buf []byte) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), req, uintptr(unsafe.Pointer(&buf[0])))
	if errno != 0 {
		return errno
	}
	return nil
}

// readGeometry asks the framebuffer for its size, pixel format (struct
// fb_var_screeninfo) and line length (struct fb_fix_screeninfo).
func readGeometry(f *os.File) (Geometry, error) {
	var v [160]byte
	if err := ioctl(f, fbiogetVScreenInfo, v[:]); err != nil {
		return Geometry{}, fmt.Errorf("FBIOGET_VSCREENINFO: %w", err)
	}
	var fix [128]byte
	if err := ioctl(f, fbiogetFScreenInfo, fix[:]); err != nil {
		return Geometry{}, fmt.Errorf("FBIOGET_FSCREENINFO: %w", err)
	}
	return parseScreenInfo(v[:], fix[:]), nil
}

// parseScreenInfo decodes the fields we use from the two structs in
// native (little-endian) order.
func parseScreenInfo(v, fix []byte) Geometry {
	u := func(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	bf := func(off int) Bitfield { return Bitfield{Offset: u(v, off), Length: u(v, off+4)} }
	// fb_fix_screeninfo: char id[16]; unsigned long smem_start; __u32
	// smem_len, type, type_aux, visual; __u16 xpanstep, ypanstep,
	// ywrapstep; __u32 line_length (aligned to 4).
	long := int(unsafe.Sizeof(uintptr(0)))
	lineOff := (16 + long + 16 + 6 + 3) &^ 3
	return Geometry{
		Width:  int(u(v, 0)),
		Height: int(u(v, 4)),
		Format: Format{
			BitsPerPixel: int(u(v, 24)),
			Red:          bf(32),
			Green:        bf(44),
			Blue:         bf(56),
		},
		Stride: int(u(fix, lineOff)),
	}
}
