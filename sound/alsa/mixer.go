package alsa

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"unsafe"
)

// The control ioctls of <sound/asound.h> on 64-bit Linux (checked in
// params_test.go).
const (
	ioctlElemList  = 0xc0505510 // _IOWR('U', 0x10, struct snd_ctl_elem_list)
	ioctlElemInfo  = 0xc1105511 // _IOWR('U', 0x11, struct snd_ctl_elem_info)
	ioctlElemWrite = 0xc4c85513 // _IOWR('U', 0x13, struct snd_ctl_elem_value)

	elemIDSize    = 64
	elemInfoSize  = 272
	elemValueSize = 1224

	ifaceMixer  = 2
	typeBoolean = 1
	typeInteger = 2
)

// elemList is struct snd_ctl_elem_list.
type elemList struct {
	offset, space, used, count uint32
	pids                       unsafe.Pointer
	_                          [56]byte
}

// setMixer readies the card's mixer for speech on the headphones: a
// kernel leaves a codec's controls muted (HD-audio does) until something
// like alsactl sets them, and the appliance has no alsactl. Every
// playback switch is turned on and every playback volume set to 90 %,
// except the loudspeakers': a "Speaker" switch is turned off, so a codec
// with both never speaks a person's data aloud.
func setMixer(o Options, card int) error {
	path := filepath.Join(o.DevRoot, "snd", fmt.Sprintf("controlC%d", card))
	c, err := o.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer c.Close()
	var l elemList
	if err := c.Ioctl(ioctlElemList, unsafe.Pointer(&l)); err != nil {
		return fmt.Errorf("list controls: %w", err)
	}
	if l.count == 0 {
		return nil
	}
	ids := make([]byte, int(l.count)*elemIDSize)
	l.space, l.pids = l.count, unsafe.Pointer(&ids[0])
	if err := c.Ioctl(ioctlElemList, unsafe.Pointer(&l)); err != nil {
		return fmt.Errorf("list controls: %w", err)
	}
	for i := range int(l.used) {
		id := ids[i*elemIDSize : (i+1)*elemIDSize]
		name := strings.TrimRight(string(id[16:60]), "\x00")
		if binary.LittleEndian.Uint32(id[4:]) != ifaceMixer || !strings.Contains(name, "Playback") {
			continue
		}
		speaker := strings.Contains(name, "Speaker")
		if err := setControl(c, id, speaker); err != nil {
			return fmt.Errorf("control %q: %w", name, err)
		}
	}
	return nil
}

// setControl turns a switch on (off for a loudspeaker) or a volume to
// 90 % of its range (0 for a loudspeaker), on every channel.
func setControl(c Conn, id []byte, speaker bool) error {
	var info [elemInfoSize]byte
	copy(info[:], id)
	if err := c.Ioctl(ioctlElemInfo, unsafe.Pointer(&info)); err != nil {
		return err
	}
	typ := binary.LittleEndian.Uint32(info[64:])
	count := min(int(binary.LittleEndian.Uint32(info[72:])), 128)
	var v int64
	switch typ {
	case typeBoolean:
		v = 1
		if speaker {
			v = 0
		}
	case typeInteger:
		lo := int64(binary.LittleEndian.Uint64(info[80:]))
		hi := int64(binary.LittleEndian.Uint64(info[88:]))
		v = lo + (hi-lo)*9/10
		if speaker {
			v = lo
		}
	default:
		return nil
	}
	var val [elemValueSize]byte
	copy(val[:], id)
	for ch := range count {
		binary.LittleEndian.PutUint64(val[72+8*ch:], uint64(v))
	}
	return c.Ioctl(ioctlElemWrite, unsafe.Pointer(&val))
}
