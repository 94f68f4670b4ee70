package alsa

import (
	"encoding/binary"
	"math"
)

// The PCM ioctls and structures of <sound/asound.h> on 64-bit Linux (amd64,
// arm64: the appliance's kernels). The sizes and numbers are checked in
// params_test.go against values compiled from the header.
const (
	ioctlPVersion = 0x80044100 // SNDRV_PCM_IOCTL_PVERSION, _IOR('A', 0x00, int)
	ioctlHwRefine = 0xc2604110 // _IOWR('A', 0x10, struct snd_pcm_hw_params)
	ioctlHwParams = 0xc2604111 // _IOWR('A', 0x11, struct snd_pcm_hw_params)
	ioctlSwParams = 0xc0884113 // _IOWR('A', 0x13, struct snd_pcm_sw_params)
	ioctlPrepare  = 0x4140     // _IO('A', 0x40)
	ioctlDrop     = 0x4143     // _IO('A', 0x43)
	ioctlDrain    = 0x4144     // _IO('A', 0x44)
	ioctlWriteI   = 0x40184150 // _IOW('A', 0x50, struct snd_xferi)

	hwParamsSize = 608
	swParamsSize = 136
)

// Hardware parameters (SNDRV_PCM_HW_PARAM_*): three masks, then intervals
// from sample bits on.
const (
	paramAccess     = 0
	paramFormat     = 1
	paramSubformat  = 2
	paramSampleBits = 8
	paramFrameBits  = 9
	paramChannels   = 10
	paramRate       = 11
	paramPeriodTime = 12
	paramPeriodSize = 13
	paramPeriodByte = 14
	paramPeriods    = 15
	paramBufferTime = 16
	paramBufferSize = 17
	paramBufferByte = 18
	paramTickTime   = 19

	firstInterval = paramSampleBits
	lastInterval  = paramTickTime

	accessRWInterleaved = 3 // SNDRV_PCM_ACCESS_RW_INTERLEAVED
	formatS16LE         = 2 // SNDRV_PCM_FORMAT_S16_LE
	subformatStd        = 0
)

// Offsets in struct snd_pcm_hw_params: flags, masks[3] and 5 reserved
// masks of 32 bytes, intervals[12] and 9 reserved of 12 bytes, then
// rmask, cmask, info, msbits, rate_num, rate_den, fifo_size.
const (
	offMasks     = 4
	maskSize     = 32
	offIntervals = 260
	intervalSize = 12
	offRmask     = 512
	offCmask     = 516
	offInfo      = 520
)

// interval flags (bitfield after min and max).
const (
	intervalOpenMin = 1 << 0
	intervalOpenMax = 1 << 1
	intervalInteger = 1 << 2
	intervalEmpty   = 1 << 3
)

// hwParams is struct snd_pcm_hw_params as bytes.
type hwParams [hwParamsSize]byte

var le = binary.LittleEndian

// any sets every mask to all values and every interval to [0, max], and
// asks the kernel to refine all of them (snd_pcm_hw_params_any).
func (p *hwParams) any() {
	*p = hwParams{}
	for m := paramAccess; m <= paramSubformat; m++ {
		for i := 0; i < maskSize; i++ {
			p[offMasks+m*maskSize+i] = 0xff
		}
	}
	for k := firstInterval; k <= lastInterval; k++ {
		p.setInterval(k, 0, math.MaxUint32, 0)
	}
	le.PutUint32(p[offRmask:], math.MaxUint32)
	le.PutUint32(p[offInfo:], math.MaxUint32)
}

// setMask narrows mask m to the one value v.
func (p *hwParams) setMask(m, v int) {
	b := p[offMasks+m*maskSize : offMasks+(m+1)*maskSize]
	clear(b)
	b[v/8] = 1 << (v % 8)
	p.request(m)
}

// hasMask reports whether mask m allows v.
func (p *hwParams) hasMask(m, v int) bool {
	return p[offMasks+m*maskSize+v/8]&(1<<(v%8)) != 0
}

func (p *hwParams) intervalOff(k int) int { return offIntervals + (k-firstInterval)*intervalSize }

// interval returns the range of k, with open ends made closed (integer
// parameters) so min and max are values the device takes.
func (p *hwParams) interval(k int) (lo, hi uint32, empty bool) {
	o := p.intervalOff(k)
	lo, hi = le.Uint32(p[o:]), le.Uint32(p[o+4:])
	f := le.Uint32(p[o+8:])
	if f&intervalOpenMin != 0 {
		lo++
	}
	if f&intervalOpenMax != 0 && hi > 0 {
		hi--
	}
	return lo, hi, f&intervalEmpty != 0 || lo > hi
}

func (p *hwParams) setInterval(k int, lo, hi uint32, flags uint32) {
	o := p.intervalOff(k)
	le.PutUint32(p[o:], lo)
	le.PutUint32(p[o+4:], hi)
	le.PutUint32(p[o+8:], flags)
}

// setValue narrows interval k to the one integer v.
func (p *hwParams) setValue(k int, v uint32) {
	p.setInterval(k, v, v, intervalInteger)
	p.request(k)
}

// value returns k's value once the kernel fixed it (its minimum).
func (p *hwParams) value(k int) uint32 {
	lo, _, _ := p.interval(k)
	return lo
}

func (p *hwParams) request(k int) {
	le.PutUint32(p[offRmask:], le.Uint32(p[offRmask:])|1<<k)
}

// nearest returns the value of [lo, hi] closest to want.
func nearest(want, lo, hi uint32) uint32 { return min(hi, max(lo, want)) }

// swParams is struct snd_pcm_sw_params as bytes (64-bit layout).
type swParams [swParamsSize]byte

// newSwParams starts the stream once start frames are queued, wakes the
// writer when avail frames are free, stops it on an underrun (the next
// write prepares it again).
func newSwParams(start, avail, buffer uint64, proto uint32) *swParams {
	var s swParams
	le.PutUint32(s[4:], 1) // period_step
	le.PutUint64(s[16:], avail)
	le.PutUint64(s[24:], 1) // xfer_align (obsolete, must be 1)
	le.PutUint64(s[32:], start)
	le.PutUint64(s[40:], buffer) // stop_threshold
	le.PutUint32(s[72:], proto)
	return &s
}
