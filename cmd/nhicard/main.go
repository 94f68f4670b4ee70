// Command nhicard reads NHI cards through PC/SC and plays a virtual one:
//
//	nhicard read [--json] [--reader NAME] [--timeout D]  wait for a card, print its profile
//	nhicard watch [--reader NAME]                        print card and reader events as they happen
//	nhicard emulate [profile flags]                      plug a virtual NHI card into vpcd
//
// read prints one JSON object with --json, or exits non-zero with one line
// saying what went wrong and what to do; the exit status tells the errors
// apart (see exitCodes). It is a tool for developers and staff with test
// cards: it prints the card's data, which the kiosk itself never does.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/nhikiosk/nhikiosk/reader"
)

const usage = `usage:
  nhicard read [--json] [--reader NAME] [--timeout D]
  nhicard watch [--reader NAME]
  nhicard emulate [--vpcd HOST:PORT] [profile flags]   (nhicard emulate -h lists them)`

// errUsage is a command line nhicard does not understand.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "nhicard: "+message(err))
		}
		os.Exit(exitCode(err))
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "read":
		return readCmd(ctx, args[1:], stdout, stderr)
	case "watch":
		return watchCmd(ctx, args[1:], stdout, stderr)
	case "emulate":
		return emulateCmd(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "nhicard: unknown command %q\n%s\n", args[0], usage)
	return errUsage
}

// parse parses a subcommand's flags, which take no arguments after them.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	return nil
}

// exitCodes tell the reader errors apart for scripts; 1 is anything else,
// 2 a bad command line.
var exitCodes = []struct {
	err  error
	code int
	what string // what happened and what to do, in one line
}{
	{reader.ErrNoReader, 3, "no card reader found: plug one in (and check that pcscd runs)"},
	{reader.ErrReaderUnplugged, 4, "the card reader was unplugged: plug it back in and try again"},
	{reader.ErrNoCard, 5, "no card in the reader: insert an NHI card"},
	{reader.ErrCardMute, 6, "the card does not answer: insert it chip first, chip facing up, and try again"},
	{reader.ErrNotNHICard, 7, "this is not an NHI card: insert an NHI card"},
	{reader.ErrCardRemoved, 8, "the card was removed during the read: insert it again and leave it in"},
	{reader.ErrGarbledProfile, 9, "the card's data is unreadable: try again; if it keeps failing the card needs replacing"},
}

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	for _, e := range exitCodes {
		if errors.Is(err, e.err) {
			return e.code
		}
	}
	return 1
}

// message is the one line printed for err: what to do, then the detail
// (reader errors never hold card data).
func message(err error) string {
	for _, e := range exitCodes {
		if errors.Is(err, e.err) {
			return e.what + " (" + err.Error() + ")"
		}
	}
	return err.Error()
}
