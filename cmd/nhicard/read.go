package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/pcsc"
)

// readTimeout bounds one read once the card is in (two APDUs; pcscd's own
// timeouts end a hung exchange).
const readTimeout = 10 * time.Second

// profileJSON is the one object `nhicard read --json` prints.
type profileJSON struct {
	CardNumber string `json:"card_number"`
	Name       string `json:"name"`
	IDNumber   string `json:"id_number"`
	BirthDate  string `json:"birth_date"`
	Sex        string `json:"sex"`
	IssueDate  string `json:"issue_date"`
}

func readCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nhicard read", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	name := fs.String("reader", "", "PC/SC reader `name` (default: the first reader)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for a card")
	if err := parse(fs, args); err != nil {
		return err
	}
	r, err := pickReader(*name)
	if err != nil {
		return err
	}
	dev, err := pcsc.New(pcsc.Options{Reader: r})
	if err != nil {
		return err
	}
	waitCtx, cancelWait := context.WithTimeout(ctx, *timeout)
	defer cancelWait()
	if err := waitCard(waitCtx, dev, *timeout); err != nil {
		return err
	}
	readCtx, cancelRead := context.WithTimeout(ctx, readTimeout)
	defer cancelRead()
	p, err := dev.Read(readCtx)
	if err != nil {
		return err
	}
	defer p.Wipe()
	return printProfile(stdout, p, *asJSON)
}

// pickReader is name if pcscd has it, else the first reader.
func pickReader(name string) (string, error) {
	readers, err := pcsc.Readers()
	if err != nil {
		return "", err
	}
	if name == "" {
		return readers[0], nil
	}
	if !slices.Contains(readers, name) {
		return "", fmt.Errorf("find reader %q (pcscd has %q): %w", name, readers, reader.ErrNoReader)
	}
	return name, nil
}

// waitCard watches dev until a card is in its reader. It fails with
// ErrNoCard when ctx ends first and ErrReaderUnplugged if the reader goes.
func waitCard(ctx context.Context, dev reader.Device, timeout time.Duration) error {
	watchCtx, stop := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- dev.Run(watchCtx) }()
	defer func() {
		stop()
		for range dev.Events() {
		}
	}()
	for {
		select {
		case ev, ok := <-dev.Events():
			if !ok {
				if err := <-runErr; err != nil {
					return err
				}
				return fmt.Errorf("waited %v: %w", timeout, reader.ErrNoCard)
			}
			switch ev.Kind {
			case reader.CardInserted:
				return nil
			case reader.ReaderDetached:
				return fmt.Errorf("wait for a card in %q: %w", ev.Reader, reader.ErrReaderUnplugged)
			}
		case <-ctx.Done():
			return fmt.Errorf("waited %v: %w", timeout, reader.ErrNoCard)
		}
	}
}

func printProfile(w io.Writer, p reader.Profile, asJSON bool) error {
	out := profileJSON{
		CardNumber: p.CardNumber,
		Name:       p.Name,
		IDNumber:   p.IDNumber,
		BirthDate:  p.BirthDate.Format(time.DateOnly),
		Sex:        string(rune(p.Sex)),
		IssueDate:  p.IssueDate.Format(time.DateOnly),
	}
	if !asJSON {
		_, err := fmt.Fprintf(w, "card number  %s\nname         %s\nID number    %s\nbirth date   %s\nsex          %s\nissue date   %s\n",
			out.CardNumber, out.Name, out.IDNumber, out.BirthDate, out.Sex, out.IssueDate)
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("print profile: %w", err)
	}
	return nil
}

func watchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nhicard watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("reader", "", "watch only the PC/SC reader `name` (default: every reader)")
	if err := parse(fs, args); err != nil {
		return err
	}
	dev, err := pcsc.New(pcsc.Options{Reader: *name})
	if err != nil {
		return err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- dev.Run(ctx) }()
	for ev := range dev.Events() {
		if _, err := fmt.Fprintln(stdout, time.Now().Format("15:04:05.000"), ev); err != nil {
			return err
		}
	}
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
