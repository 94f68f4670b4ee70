package fbdev

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
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

// Input ioctls (linux/input.h).
func eviocgbit(ev, n int) uintptr { return ioc(2, 'E', uintptr(0x20+ev), uintptr(n)) }
func eviocgabs(abs int) uintptr   { return ioc(2, 'E', uintptr(0x40+abs), 24) }

// ioc is the kernel's _IOC(dir, type, nr, size) on arm, arm64 and x86.
func ioc(dir, typ, nr, size uintptr) uintptr {
	return dir<<30 | size<<16 | typ<<8 | nr
}

// openTouch opens an evdev device and reads its axis ranges, preferring
// the multi-touch axes.
func openTouch(path string) (*os.File, Calibration, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Calibration{}, err
	}
	axis := func(code int) (Axis, bool) {
		var info [24]byte // struct input_absinfo: value, minimum, maximum, …
		if ioctl(f, eviocgabs(code), info[:]) != nil {
			return Axis{}, false
		}
		a := Axis{Min: int32(binary.LittleEndian.Uint32(info[4:])), Max: int32(binary.LittleEndian.Uint32(info[8:]))}
		return a, a.Max > a.Min
	}
	var cal Calibration
	var okX, okY bool
	if cal.X, okX = axis(absMTPosX); !okX {
		cal.X, okX = axis(absX)
	}
	if cal.Y, okY = axis(absMTPosY); !okY {
		cal.Y, okY = axis(absY)
	}
	if !okX || !okY {
		f.Close()
		return nil, Calibration{}, fmt.Errorf("%s reports no absolute position", path)
	}
	return f, cal, nil
}

// findTouchDevices returns the evdev devices that report absolute X and Y
// (touch screens; not mice or keyboards).
func findTouchDevices() []string {
	paths, _ := filepath.Glob("/dev/input/event*")
	var touch []string
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		var bits [8]byte // ABS_CNT is 64 bits
		if ioctl(f, eviocgbit(evAbs, len(bits)), bits[:]) == nil {
			has := func(code int) bool { return bits[code/8]&(1<<(code%8)) != 0 }
			if has(absX) && has(absY) || has(absMTPosX) && has(absMTPosY) {
				touch = append(touch, p)
			}
		}
		f.Close()
	}
	return touch
}
