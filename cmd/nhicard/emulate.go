package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
)

// emulateCmd plugs a virtual card into vpcd and keeps it in until
// interrupted, until --for has passed, or until the card pulls itself out
// (--pull-on).
func emulateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nhicard emulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("vpcd", readertest.DefaultVPCDAddr, "vpcd's card port (`host:port`; 35964 is its second reader)")
	card := cardFlags(fs)
	dur := fs.Duration("for", 0, "remove the card after this long (0: until interrupted)")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := card()
	if err != nil {
		fmt.Fprintln(stderr, "nhicard emulate:", err)
		return errUsage
	}
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}
	in, err := readertest.Insert(ctx, *addr, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "virtual card in vpcd at %s; interrupt to remove it\n", *addr)
	select {
	case <-ctx.Done():
		in.Remove()
		fmt.Fprintln(stdout, "card removed")
		return nil
	case <-in.Done():
		if err := in.Err(); err != nil {
			fmt.Fprintln(stdout, "card left the reader:", err)
		}
		return nil
	}
}

// cardFlags defines the profile flags on fs and returns a function that
// builds the card once fs is parsed. The defaults are the fake TestOne.
func cardFlags(fs *flag.FlagSet) func() (*readertest.Card, error) {
	p := readertest.TestOne
	fs.StringVar(&p.CardNumber, "card-number", p.CardNumber, "12-digit card number")
	fs.StringVar(&p.Name, "name", p.Name, "name (encoded as Big5; at most 20 bytes)")
	fs.StringVar(&p.IDNumber, "id", p.IDNumber, "ID number (10 characters; not checked, so bad ones can be tested)")
	birth := fs.String("birth", p.BirthDate.Format(time.DateOnly), "birth date YYYY-MM-DD")
	issue := fs.String("issue", p.IssueDate.Format(time.DateOnly), "card issue date YYYY-MM-DD")
	sex := fs.String("sex", "M", "M or F")
	pad := fs.String("pad", "nul", "pad the name with nul or space")
	kind := fs.String("kind", "nhi", "nhi, foreign (some other card) or mute (no ATR)")
	pullOn := fs.String("pull-on", "", "pull the card out instead of answering: select or read")
	t0 := fs.Bool("t0", false, "hand the profile out with 61xx and GET RESPONSE, as T=0 cards do")
	return func() (*readertest.Card, error) {
		var err error
		if p.BirthDate, err = time.Parse(time.DateOnly, *birth); err != nil {
			return nil, fmt.Errorf("--birth: %w", err)
		}
		if p.IssueDate, err = time.Parse(time.DateOnly, *issue); err != nil {
			return nil, fmt.Errorf("--issue: %w", err)
		}
		if len(*sex) != 1 {
			return nil, fmt.Errorf("--sex: one letter, M or F")
		}
		p.Sex = reader.Sex((*sex)[0])
		switch *pad {
		case "nul":
		case "space":
			p.PadSpace = true
		default:
			return nil, fmt.Errorf("--pad: nul or space, not %q", *pad)
		}
		c, err := readertest.NewCard(p)
		if err != nil {
			return nil, err
		}
		c.GetResponse = *t0
		switch *kind {
		case "nhi":
		case "foreign":
			c.Kind = readertest.Foreign
		case "mute":
			c.Kind = readertest.Mute
		default:
			return nil, fmt.Errorf("--kind: nhi, foreign or mute, not %q", *kind)
		}
		switch *pullOn {
		case "":
		case "select":
			c.PullOn = 0xA4
		case "read":
			c.PullOn = 0xCA
		default:
			return nil, fmt.Errorf("--pull-on: select or read, not %q", *pullOn)
		}
		return c, nil
	}
}
