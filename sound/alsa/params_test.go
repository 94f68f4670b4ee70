package alsa

import (
	"testing"
	"unsafe"
)

// TestABI checks the structure sizes and ioctl numbers against the values
// compiled from <sound/asound.h> (linux-libc-dev 6.1) on amd64 with:
//
//	printf("%zu %zu %zu %#lx %#lx\n", sizeof(struct snd_pcm_hw_params),
//	       sizeof(struct snd_pcm_sw_params), sizeof(struct snd_xferi),
//	       SNDRV_PCM_IOCTL_HW_PARAMS, SNDRV_PCM_IOCTL_WRITEI_FRAMES);
//
// and the _IOC encoding (dir<<30 | size<<16 | 'A'<<8 | nr) for the rest.
func TestABI(t *testing.T) {
	ioc := func(dir, size, nr uintptr) uintptr { return dir<<30 | size<<16 | 'A'<<8 | nr }
	const r, w = 2, 1
	tests := []struct {
		name      string
		got, want uintptr
	}{
		{"hw_params size", unsafe.Sizeof(hwParams{}), 608},
		{"sw_params size", unsafe.Sizeof(swParams{}), 136},
		{"xferi size", unsafe.Sizeof(xferi{}), 24},
		{"PVERSION", ioctlPVersion, ioc(r, 4, 0x00)},
		{"HW_REFINE", ioctlHwRefine, ioc(r|w, 608, 0x10)},
		{"HW_PARAMS", ioctlHwParams, ioc(r|w, 608, 0x11)},
		{"SW_PARAMS", ioctlSwParams, ioc(r|w, 136, 0x13)},
		{"WRITEI_FRAMES", ioctlWriteI, ioc(w, 24, 0x50)},
		{"PREPARE", ioctlPrepare, ioc(0, 0, 0x40)},
		{"DROP", ioctlDrop, ioc(0, 0, 0x43)},
		{"DRAIN", ioctlDrain, ioc(0, 0, 0x44)},
		{"HW_PARAMS literal", ioctlHwParams, 0xc2604111},
		{"ELEM_LIST", ioctlElemList, 0xc0505510},
		{"ELEM_INFO", ioctlElemInfo, 0xc1105511},
		{"ELEM_WRITE", ioctlElemWrite, 0xc4c85513},
		{"elem_list size", unsafe.Sizeof(elemList{}), 80},
		{"WRITEI literal", ioctlWriteI, 0x40184150},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x, want %#x", tt.name, tt.got, tt.want)
		}
	}
}

func TestIntervals(t *testing.T) {
	var p hwParams
	p.any()
	if lo, hi, empty := p.interval(paramRate); lo != 0 || hi != 1<<32-1 || empty {
		t.Fatalf("any: rate [%d, %d] empty %t", lo, hi, empty)
	}
	p.setInterval(paramRate, 44100, 48000, intervalOpenMin|intervalOpenMax)
	if lo, hi, _ := p.interval(paramRate); lo != 44101 || hi != 47999 {
		t.Errorf("open interval read as [%d, %d], want [44101, 47999]", lo, hi)
	}
	p.setValue(paramChannels, 2)
	if got := p.value(paramChannels); got != 2 {
		t.Errorf("channels = %d, want 2", got)
	}
	p.setMask(paramFormat, formatS16LE)
	if !p.hasMask(paramFormat, formatS16LE) || p.hasMask(paramFormat, 0) {
		t.Error("format mask not narrowed to S16_LE")
	}
	if got := nearest(48000, 8000, 44100); got != 44100 {
		t.Errorf("nearest = %d", got)
	}
}
