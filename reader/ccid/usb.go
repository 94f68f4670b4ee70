package ccid

import (
	"context"
	"errors"
)

// USB is one claimed CCID interface: its bulk pipes and its interrupt
// pipe. The usbfs implementation is in usbfs_linux.go; tests use a fake
// reader (reader/ccid/ccidtest).
//
// Write and Read block until the transfer completes or ctx ends. Read
// returns one whole bulk-in transfer (one CCID message). Interrupt blocks
// until the reader sends an interrupt message; it returns ErrNoInterrupt
// at once for readers without an interrupt endpoint. A device that was
// unplugged returns errors wrapping reader.ErrReaderUnplugged. Interrupt
// may be called from one goroutine while another uses Write and Read;
// Write and Read themselves are used by one goroutine at a time.
type USB interface {
	Write(ctx context.Context, p []byte) error
	Read(ctx context.Context, p []byte) (int, error)
	Interrupt(ctx context.Context, p []byte) (int, error)
	Close() error
}

// ErrNoInterrupt means the reader has no interrupt endpoint: card changes
// must be polled with GetSlotStatus.
var ErrNoInterrupt = errors.New("ccid: reader has no interrupt endpoint")
