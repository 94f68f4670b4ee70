package alsa

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"unsafe"

	"github.com/nhikiosk/nhikiosk/sound"
)

// fakePCM is a kernel's PCM device with a card's constraints: the refine
// and params ioctls intersect what is asked with what the card takes, as
// the kernel's constraint rules do for these parameters.
type fakePCM struct {
	rates     []uint32
	channels  [2]uint32
	period    [2]uint32
	periods   [2]uint32
	set       *hwParams
	sw        swParams
	written   []int16
	calls     []uintptr
	underruns int // writes that fail with EPIPE first
	closed    bool
}

func (f *fakePCM) refine(p *hwParams, choose bool) error {
	if !p.hasMask(paramAccess, accessRWInterleaved) || !p.hasMask(paramFormat, formatS16LE) {
		return syscall.EINVAL
	}
	clampTo := func(k int, lo, hi uint32) error {
		a, b, _ := p.interval(k)
		a, b = max(a, lo), min(b, hi)
		if a > b {
			return syscall.EINVAL
		}
		if choose {
			b = a
		}
		p.setInterval(k, a, b, intervalInteger)
		return nil
	}
	lo, hi, _ := p.interval(paramRate)
	var ok []uint32
	for _, r := range f.rates {
		if r >= lo && r <= hi {
			ok = append(ok, r)
		}
	}
	if len(ok) == 0 {
		return syscall.EINVAL
	}
	for _, e := range []error{
		clampTo(paramRate, ok[0], ok[len(ok)-1]),
		clampTo(paramChannels, f.channels[0], f.channels[1]),
		clampTo(paramPeriodSize, f.period[0], f.period[1]),
		clampTo(paramPeriods, f.periods[0], f.periods[1]),
	} {
		if e != nil {
			return e
		}
	}
	ps, _, _ := p.interval(paramPeriodSize)
	n, _, _ := p.interval(paramPeriods)
	p.setInterval(paramBufferSize, ps*n, ps*n, intervalInteger)
	return nil
}

func (f *fakePCM) Ioctl(req uintptr, arg unsafe.Pointer) error {
	f.calls = append(f.calls, req)
	switch req {
	case ioctlPVersion:
		*(*int32)(arg) = 0x2000f
	case ioctlHwRefine:
		return f.refine((*hwParams)(arg), false)
	case ioctlHwParams:
		p := (*hwParams)(arg)
		if err := f.refine(p, true); err != nil {
			return err
		}
		f.set = p
	case ioctlSwParams:
		if f.set == nil {
			return syscall.EBADFD
		}
		f.sw = *(*swParams)(arg)
	case ioctlWriteI:
		x := (*xferi)(arg)
		if f.underruns > 0 {
			f.underruns--
			return syscall.EPIPE
		}
		ch := int(f.set.value(paramChannels))
		f.written = append(f.written, unsafe.Slice((*int16)(x.buf), int(x.frames)*ch)...)
		x.result = int64(x.frames)
	case ioctlPrepare, ioctlDrop, ioctlDrain:
	default:
		return syscall.ENOTTY
	}
	return nil
}

func (f *fakePCM) Close() error { f.closed = true; return nil }

// fakeTree makes sysfs and /dev entries for cards given as id → usb.
func fakeTree(t *testing.T, cards ...card) (sys, dev string) {
	t.Helper()
	root := t.TempDir()
	sys, dev = filepath.Join(root, "sys"), filepath.Join(root, "dev")
	for _, c := range cards {
		d := filepath.Join(sys, "class", "sound", "card"+itoa(c.n))
		bus := filepath.Join(sys, "devices", "platform", "soc")
		if c.usb {
			bus = filepath.Join(sys, "devices", "pci0000:00", "usb1", "1-1")
		}
		must(t, os.MkdirAll(d, 0o755), os.MkdirAll(bus, 0o755), os.MkdirAll(filepath.Join(dev, "snd"), 0o755))
		must(t, os.WriteFile(filepath.Join(d, "id"), []byte(c.id+"\n"), 0o644), os.Symlink(bus, filepath.Join(d, "device")),
			os.WriteFile(filepath.Join(dev, "snd", "pcmC"+itoa(c.n)+"D0p"), nil, 0o644))
	}
	return sys, dev
}

func itoa(n int) string { return string(rune('0' + n)) }

func must(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenNegotiates(t *testing.T) {
	sys, dev := fakeTree(t, card{n: 0, id: "vc4hdmi0"}, card{n: 1, id: "Headphones"}, card{n: 2, id: "Device", usb: true})
	tests := []struct {
		name     string
		card     string
		k        *fakePCM
		wantPath string
		want     sound.Format
		period   int
	}{
		{"pi headphones, any rate, mono", "", &fakePCM{rates: []uint32{8000, 16000, 48000}, channels: [2]uint32{1, 2}, period: [2]uint32{64, 4096}, periods: [2]uint32{2, 8}},
			"pcmC1D0p", sound.Format{Rate: 48000, Channels: 2}, 480},
		{"usb adapter only 44.1k stereo, by id", "device", &fakePCM{rates: []uint32{44100}, channels: [2]uint32{2, 2}, period: [2]uint32{1024, 4096}, periods: [2]uint32{2, 2}},
			"pcmC2D0p", sound.Format{Rate: 44100, Channels: 2}, 1024},
		{"by number", "2", &fakePCM{rates: []uint32{48000}, channels: [2]uint32{2, 2}, period: [2]uint32{16, 480}, periods: [2]uint32{4, 4}},
			"pcmC2D0p", sound.Format{Rate: 48000, Channels: 2}, 480},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opened string
			d, err := Open(Options{Card: tt.card, SysRoot: sys, DevRoot: dev, Open: func(p string) (Conn, error) {
				opened = p
				return tt.k, nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			if got := filepath.Base(opened); got != tt.wantPath {
				t.Errorf("opened %s, want %s", got, tt.wantPath)
			}
			if got := d.Format(); got != tt.want {
				t.Errorf("Format() = %+v, want %+v", got, tt.want)
			}
			if got := d.(*pcm).period; got != tt.period {
				t.Errorf("period = %d, want %d", got, tt.period)
			}
			if got, want := le.Uint64(tt.k.sw[32:]), uint64(tt.period); got != want {
				t.Errorf("start threshold = %d, want %d (one period)", got, want)
			}
			if !slices.Contains(tt.k.calls, uintptr(ioctlPrepare)) {
				t.Error("the stream was not prepared")
			}
		})
	}
}

func TestOpenRefusesHDMIOnly(t *testing.T) {
	sys, dev := fakeTree(t, card{n: 0, id: "vc4hdmi0"}, card{n: 1, id: "vc4hdmi1"})
	_, err := Open(Options{SysRoot: sys, DevRoot: dev, Open: func(string) (Conn, error) { return &fakePCM{}, nil }})
	if !errors.Is(err, sound.ErrNoDevice) {
		t.Fatalf("Open with only HDMI cards: %v, want ErrNoDevice", err)
	}
	if _, err := Open(Options{Card: "Headphones", SysRoot: sys, DevRoot: dev}); !errors.Is(err, sound.ErrNoDevice) {
		t.Fatalf("Open of a missing card: %v, want ErrNoDevice", err)
	}
}

func TestWriteRecoversUnderrun(t *testing.T) {
	sys, dev := fakeTree(t, card{n: 0, id: "Intel"})
	k := &fakePCM{rates: []uint32{48000}, channels: [2]uint32{2, 2}, period: [2]uint32{100, 100}, periods: [2]uint32{4, 4}}
	d, err := Open(Options{SysRoot: sys, DevRoot: dev, Open: func(string) (Conn, error) { return k, nil }})
	if err != nil {
		t.Fatal(err)
	}
	frames := make([]int16, 2*250)
	for i := range frames {
		frames[i] = int16(i)
	}
	k.underruns = 1
	n, err := d.Write(frames)
	if err != nil || n != 250 {
		t.Fatalf("Write = %d, %v; want 250, nil", n, err)
	}
	if !slices.Equal(k.written, frames) {
		t.Errorf("written %d samples, not what was given", len(k.written))
	}
	writes := 0
	for _, c := range k.calls {
		if c == ioctlWriteI {
			writes++
		}
	}
	if writes != 4 { // 100 + (underrun) + 100 + 50
		t.Errorf("%d write ioctls, want 4 (a period at a time, one retried)", writes)
	}
	if err := d.Drop(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil || !k.closed {
		t.Fatalf("Close = %v, closed %t", err, k.closed)
	}
}
