// Package pcsc reaches NHI cards through PC/SC (pcscd, via
// github.com/ebfe/scard): a reader.Device that watches readers and cards
// with SCardGetStatusChange, event-driven (pcscd wakes it; it never polls),
// and reads the card with reader.ReadProfile over an SCardTransmit
// transport. Every PC/SC call of the process runs on one goroutine (hub.go)
// because libpcsclite shares its table of reader states between all
// contexts of a process without a lock.
//
// It needs cgo and libpcsclite. Built with CGO_ENABLED=0 (the gokrazy
// image, which reaches its reader through reader/ccid instead) it still
// compiles, and New says PC/SC is unavailable. It must not decode or keep
// card data itself: that is package reader's job.
package pcsc

// Options choose what the Device watches and reads.
type Options struct {
	// Reader is the PC/SC reader name to use (e.g. "Virtual PCD 00 00").
	// Empty watches every reader, and Read reads the first reader, in
	// pcscd's order, that holds a card.
	Reader string
}
