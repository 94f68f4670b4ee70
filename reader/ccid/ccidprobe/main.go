// Command ccidprobe checks the CCID transport on a running appliance: it
// watches for CCID readers and cards like the kiosk does, and for each card
// inserted reads it with the kiosk's NHI card protocol (reader.ReadProfile
// through ccid.NewDevice), then reports what happened and how long it
// took: events, ATR, error kinds and times only, never the profile's
// contents.
//
// It is a diagnostic for the QEMU VM test and for staff checking a reader
// on a gokrazy image (-console writes the report to the serial console,
// where gokrazy does not send a program's output). It is not part of the
// kiosk.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/ccid"
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
	dev := ccid.NewDevice(ccid.Options{Log: slog.New(slog.NewTextHandler(io.MultiWriter(os.Stderr, out), nil))})
	errc := make(chan error, 1)
	go func() { errc <- dev.Run(ctx) }()
	fmt.Fprintln(out, "ccidprobe: watching for CCID readers")
	for e := range dev.Events() {
		fmt.Fprintf(out, "ccidprobe: %s\n", e)
		if e.Kind == reader.CardInserted {
			readCard(ctx, out, dev)
		}
	}
	return <-errc
}

// readCard reads the card like the kiosk does (reader.ReadProfile over
// the powered card) and reports whether the profile is valid and how long
// it took, then drops the profile.
func readCard(ctx context.Context, out io.Writer, dev reader.Device) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	p, err := dev.Read(ctx)
	p.Wipe()
	if err != nil {
		fmt.Fprintf(out, "ccidprobe: card read failed (%s): %v\n", reader.CatalogKey(err), err)
		return
	}
	fmt.Fprintf(out, "ccidprobe: card read: NHI profile valid, in %v\n", time.Since(start).Round(time.Microsecond))
}
