// Command ccidprobe checks the CCID transport on a running appliance: it
// watches for CCID readers and cards like the kiosk does, and for each card
// inserted selects the NHI applet and reads the profile, then reports what
// happened and how long it took: status words, lengths and times only,
// never the profile's contents.
//
// It is a diagnostic for the QEMU VM test and for staff checking a reader
// on a gokrazy image (-console writes the report to the serial console,
// where gokrazy does not send a program's output). It is not part of the
// kiosk.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nhikiosk/nhikiosk/reader/ccid"
)

// The two APDUs of an NHI card read (the card protocol itself lives in
// package reader; this only exercises the transport).
var (
	selectNHI   = []byte{0x00, 0xA4, 0x04, 0x00, 0x10, 0xD1, 0x58, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00}
	readProfile = []byte{0x00, 0xCA, 0x11, 0x00, 0x02, 0x00, 0x00}
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ccidprobe:", err)
		os.Exit(1)
	}
}

func run() error {
	console := flag.String("console", "", "also write the report to this file, e.g. /dev/console")
	flag.Parse()
	out := io.Writer(os.Stdout)
	if *console != "" {
		f, err := os.OpenFile(*console, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("open console: %w", err)
		}
		defer f.Close()
		out = io.MultiWriter(os.Stdout, f)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &ccid.Monitor{Log: slog.New(slog.NewTextHandler(io.MultiWriter(os.Stderr, out), nil))}
	events := make(chan ccid.Event)
	errc := make(chan error, 1)
	go func() { errc <- m.Run(ctx, events) }()
	fmt.Fprintln(out, "ccidprobe: watching for CCID readers")
	for {
		select {
		case err := <-errc:
			return err
		case e := <-events:
			report(ctx, out, e)
		}
	}
}

func report(ctx context.Context, out io.Writer, e ccid.Event) {
	switch {
	case e.Kind == ccid.CardInserted && e.Err != nil:
		fmt.Fprintf(out, "ccidprobe: card inserted but not usable: %v\n", e.Err)
	case e.Kind == ccid.CardInserted:
		d := e.Card.Descriptor()
		fmt.Fprintf(out, "ccidprobe: card inserted (ATR %d bytes, reader level %#x)\n", len(e.Card.ATR()), d.Level())
		readCard(ctx, out, e.Card)
	default:
		fmt.Fprintf(out, "ccidprobe: %s %s\n", e.Kind, e.Reader)
	}
}

func readCard(ctx context.Context, out io.Writer, card *ccid.Reader) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	resp, err := card.Transmit(ctx, selectNHI)
	if err != nil {
		fmt.Fprintf(out, "ccidprobe: select failed: %v\n", err)
		return
	}
	if !bytes.Equal(resp, []byte{0x90, 0x00}) {
		fmt.Fprintf(out, "ccidprobe: select answered SW % X: not an NHI card\n", sw(resp))
		return
	}
	resp, err = card.Transmit(ctx, readProfile)
	if err != nil {
		fmt.Fprintf(out, "ccidprobe: read profile failed: %v\n", err)
		return
	}
	fmt.Fprintf(out, "ccidprobe: card read: profile %d bytes, SW % X, in %v\n", len(resp)-2, sw(resp), time.Since(start).Round(time.Microsecond))
}

// sw returns the status word at the end of a response.
func sw(resp []byte) []byte {
	if len(resp) < 2 {
		return resp
	}
	return resp[len(resp)-2:]
}
