package ccid

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Exchange levels, dwFeatures bits 16-18 (CCID 5.1, table 5.1-1).
const (
	LevelCharacter = 0
	LevelTPDU      = 0x00010000
	LevelShortAPDU = 0x00020000
	LevelExtAPDU   = 0x00040000
	levelMask      = 0x00070000

	featAutoParams = 0x00000002 // automatic parameter configuration from the ATR
	featAutoPPS    = 0x00000080 // the reader negotiates PPS itself
	featAutoParm   = 0x00000040 // automatic parameter negotiation (proprietary)
	featAutoIFSD   = 0x00000400 // the reader does the IFSD exchange itself
)

// USB descriptor types and the smart card interface class.
const (
	descInterface = 0x04
	descEndpoint  = 0x05
	descCCID      = 0x21
	ClassCCID     = 0x0B
)

// ErrNotCCID means the descriptors hold no usable CCID interface.
var ErrNotCCID = errors.New("ccid: no CCID interface in the descriptors")

// Descriptor is what the kiosk needs of a CCID reader's descriptors: the
// interface to claim, its endpoints, and the class descriptor's
// capabilities.
type Descriptor struct {
	Interface     int
	BulkIn        byte // endpoint address
	BulkOut       byte
	Interrupt     byte // 0 if the reader has no interrupt endpoint
	MaxSlot       int
	Protocols     uint32 // bit 0 T=0, bit 1 T=1
	MaxIFSD       int
	Features      uint32
	MaxMessageLen int
}

// Level returns the exchange level (LevelTPDU, LevelShortAPDU, …).
func (d Descriptor) Level() uint32 { return d.Features & levelMask }

// AutoParams reports whether the reader sets the protocol parameters from
// the ATR itself, so SetParameters is not needed.
func (d Descriptor) AutoParams() bool { return d.Features&(featAutoParams|featAutoParm) != 0 }

// AutoIFSD reports whether the reader negotiates IFSD itself.
func (d Descriptor) AutoIFSD() bool { return d.Features&featAutoIFSD != 0 }

// ParseDescriptors finds the first CCID interface in raw USB descriptors
// (the device descriptor followed by the configuration's, as sysfs's
// "descriptors" file holds them) and decodes its class descriptor and
// endpoints.
func ParseDescriptors(raw []byte) (Descriptor, error) {
	var d Descriptor
	in := false // inside the CCID interface
	found := false
	for p := raw; len(p) > 0; {
		n := int(p[0])
		if n < 2 || n > len(p) {
			return Descriptor{}, fmt.Errorf("ccid: descriptor of length %d with %d bytes left: %w", n, len(p), ErrNotCCID)
		}
		desc := p[:n]
		p = p[n:]
		switch desc[1] {
		case descInterface:
			if found {
				return d.check()
			}
			in = n >= 9 && desc[5] == ClassCCID
			if in {
				d = Descriptor{Interface: int(desc[2])}
			}
		case descCCID:
			if in {
				if err := d.parseClass(desc); err != nil {
					return Descriptor{}, err
				}
				found = true
			}
		case descEndpoint:
			if in && n >= 7 {
				d.endpoint(desc)
			}
		}
	}
	if !found {
		return Descriptor{}, ErrNotCCID
	}
	return d.check()
}

func (d *Descriptor) parseClass(c []byte) error {
	if len(c) < 54 {
		return fmt.Errorf("ccid: class descriptor of %d bytes, want 54: %w", len(c), ErrNotCCID)
	}
	d.MaxSlot = int(c[4])
	d.Protocols = binary.LittleEndian.Uint32(c[6:10])
	d.MaxIFSD = int(binary.LittleEndian.Uint32(c[28:32]))
	d.Features = binary.LittleEndian.Uint32(c[40:44])
	d.MaxMessageLen = int(binary.LittleEndian.Uint32(c[44:48]))
	return nil
}

func (d *Descriptor) endpoint(e []byte) {
	addr, attr := e[2], e[3]&0x03
	switch {
	case attr == 2 && addr&0x80 != 0:
		d.BulkIn = addr
	case attr == 2:
		d.BulkOut = addr
	case attr == 3 && addr&0x80 != 0:
		d.Interrupt = addr
	}
}

func (d Descriptor) check() (Descriptor, error) {
	if d.BulkIn == 0 || d.BulkOut == 0 {
		return Descriptor{}, fmt.Errorf("ccid: interface %d lacks bulk endpoints: %w", d.Interface, ErrNotCCID)
	}
	if d.Level() == LevelCharacter {
		// Character level leaves ATR, PPS and T=1 timing to the host byte
		// by byte; no reader an NHI kiosk would use needs it.
		return Descriptor{}, fmt.Errorf("ccid: interface %d is a character-level reader, not supported: %w", d.Interface, ErrNotCCID)
	}
	if d.MaxMessageLen < headerLen+5 || d.MaxMessageLen > 1<<20 {
		return Descriptor{}, fmt.Errorf("ccid: dwMaxCCIDMessageLength %d: %w", d.MaxMessageLen, ErrNotCCID)
	}
	return d, nil
}
