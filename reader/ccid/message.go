// Package ccid reaches NHI cards through USB smart card readers of the CCID
// class (USB CCID rev 1.1) in pure Go, over Linux usbfs, for the gokrazy
// appliance where there is no pcscd and no udev: it finds readers in sysfs,
// claims their interface, powers the card, carries APDUs (directly for
// APDU-level readers, over T=1 for TPDU-level ones, see reader/ccid/t1),
// and reports cards and readers coming and going from the interrupt
// endpoint and kernel uevents.
//
// NewDevice makes all of it a reader.Device (reader.Event for every change,
// reader.ReadProfile over the powered card); Reader is the
// reader.Transport. Failures wrap the reader package's sentinel errors.
// It must not build APDUs or interpret them (that is the NHI card protocol
// in package reader), nor keep or log their contents.
package ccid

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Message types (CCID rev 1.1, sections 6.1 to 6.3).
const (
	PCtoRDRIccPowerOn     = 0x62
	PCtoRDRIccPowerOff    = 0x63
	PCtoRDRGetSlotStatus  = 0x65
	PCtoRDRXfrBlock       = 0x6F
	PCtoRDRGetParameters  = 0x6C
	PCtoRDRSetParameters  = 0x61
	RDRtoPCDataBlock      = 0x80
	RDRtoPCSlotStatus     = 0x81
	RDRtoPCParameters     = 0x82
	RDRtoPCNotifySlotChg  = 0x50
	RDRtoPCHardwareError  = 0x51
	headerLen             = 10
	maxMessageLenFallback = 271 // short APDU plus header, for readers that claim less
)

// ICC status in bStatus bits 0-1 (CCID 6.2.6, table 6.2-3).
const (
	ICCActive   = 0
	ICCInactive = 1
	ICCAbsent   = 2
)

// Command status in bStatus bits 6-7.
const (
	cmdOK      = 0
	cmdFailed  = 1
	cmdTimeExt = 2
)

// Slot error codes in bError when the command failed (CCID table 6.2-2).
const (
	ErrCodeICCMute        = 0xFE
	ErrCodeXfrParity      = 0xFD
	ErrCodeXfrOverrun     = 0xFC
	ErrCodeHWError        = 0xFB
	ErrCodeBadATRTS       = 0xF8
	ErrCodeBadATRTCK      = 0xF7
	ErrCodeProtoNotSupp   = 0xF6
	ErrCodeClassNotSupp   = 0xF5
	ErrCodeProcByteConfl  = 0xF4
	ErrCodeDeactivated    = 0xF3
	ErrCodeBusyAutoSeq    = 0xF2
	ErrCodePINTimeout     = 0xF0
	ErrCodePINCancelled   = 0xEF
	ErrCodeCmdSlotBusy    = 0xE0
	ErrCodeCmdUnsupported = 0x00
)

// ErrMessage means bytes from the reader are not a well-formed CCID
// message.
var ErrMessage = errors.New("ccid: malformed message")

// Message is one CCID bulk message: the 10-byte header and its data.
type Message struct {
	Type  byte
	Slot  byte
	Seq   byte
	Param [3]byte // message-specific: bStatus, bError, bChainParameter on responses
	Data  []byte
}

// Encode returns the message as sent on the bulk-out endpoint.
func (m Message) Encode() []byte {
	out := make([]byte, headerLen+len(m.Data))
	out[0] = m.Type
	binary.LittleEndian.PutUint32(out[1:5], uint32(len(m.Data)))
	out[5] = m.Slot
	out[6] = m.Seq
	copy(out[7:10], m.Param[:])
	copy(out[10:], m.Data)
	return out
}

// ParseMessage decodes one bulk-in message. The data must be exactly as
// long as dwLength says: CCID never packs two messages in one transfer.
func ParseMessage(p []byte) (Message, error) {
	if len(p) < headerLen {
		return Message{}, fmt.Errorf("%w: %d bytes", ErrMessage, len(p))
	}
	n := binary.LittleEndian.Uint32(p[1:5])
	if uint64(n) != uint64(len(p)-headerLen) {
		return Message{}, fmt.Errorf("%w: dwLength %d in %d bytes", ErrMessage, n, len(p))
	}
	switch p[0] {
	case RDRtoPCDataBlock, RDRtoPCSlotStatus, RDRtoPCParameters:
	default:
		return Message{}, fmt.Errorf("%w: type %#02x", ErrMessage, p[0])
	}
	m := Message{Type: p[0], Slot: p[5], Seq: p[6], Data: append([]byte(nil), p[headerLen:]...)}
	copy(m.Param[:], p[7:10])
	return m, nil
}

// ICCStatus returns bmICCStatus of a response.
func (m Message) ICCStatus() int { return int(m.Param[0] & 0x03) }

// CommandStatus returns bmCommandStatus of a response.
func (m Message) CommandStatus() int { return int(m.Param[0] >> 6) }

// Error returns bError of a response.
func (m Message) Error() byte { return m.Param[1] }

// SlotChange is one slot's state from a RDR_to_PC_NotifySlotChange.
type SlotChange struct {
	Slot    int
	Present bool
	Changed bool
}

// ParseInterrupt decodes an interrupt-in message: NotifySlotChange gives
// the slots' states; HardwareError gives an error naming its slot.
func ParseInterrupt(p []byte, slots int) ([]SlotChange, error) {
	if len(p) == 0 {
		return nil, fmt.Errorf("%w: empty interrupt", ErrMessage)
	}
	switch p[0] {
	case RDRtoPCNotifySlotChg:
		need := 1 + (slots+3)/4
		if len(p) < need {
			return nil, fmt.Errorf("%w: NotifySlotChange of %d bytes for %d slots", ErrMessage, len(p), slots)
		}
		out := make([]SlotChange, slots)
		for i := range out {
			bits := p[1+i/4] >> (2 * (i % 4))
			out[i] = SlotChange{Slot: i, Present: bits&1 != 0, Changed: bits&2 != 0}
		}
		return out, nil
	case RDRtoPCHardwareError:
		if len(p) < 4 {
			return nil, fmt.Errorf("%w: HardwareError of %d bytes", ErrMessage, len(p))
		}
		return nil, fmt.Errorf("ccid: reader hardware error %#02x on slot %d", p[3], p[1])
	}
	return nil, fmt.Errorf("%w: interrupt type %#02x", ErrMessage, p[0])
}
