package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
)

// demoParts builds the demo: nhisim in dev mode in this process (its
// e-mails, with their codes, printed to stdout), a virtual reader with the
// test person's card, and the configured screen with the developer strip
// along its bottom. Its data lives in a temporary directory that stop
// removes.
func demoParts(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) (parts, func(), error) {
	var p parts
	dir, err := os.MkdirTemp("", "nhikiosk-demo-")
	if err != nil {
		return p, nil, fmt.Errorf("demo: %w", err)
	}
	var dev *server.Dev
	stop := func() {
		if dev != nil {
			dev.Stop()
		}
		os.RemoveAll(dir)
	}
	if p.font, p.theme, err = display.Configured(cfg.Display); err != nil {
		return p, stop, &exitError{exitNoRestart, err}
	}
	if dev, err = server.StartDev(ctx, dir, stdout, nil); err != nil {
		return p, stop, fmt.Errorf("demo upstream: %w", err)
	}
	cfg.DataDir = dir
	cfg.Upstream.URL, cfg.Upstream.AgeRecipient = dev.URL, dev.Recipient
	if p.client, err = upstream.FromConfig(*cfg, log); err != nil {
		return p, stop, fmt.Errorf("demo upstream client: %w", err)
	}
	vr := readertest.NewDevice("Virtual NHI reader (demo)")
	p.reader = vr
	screen, err := openScreen(*cfg, log, nil, nil)
	if err != nil {
		return p, stop, &exitError{exitNoRestart, err}
	}
	card := readertest.TestOne
	insert := func(kind readertest.Kind) func() {
		return func() {
			c, err := readertest.NewCard(card)
			if err != nil {
				log.Error("demo card", "err", err)
				return
			}
			c.Kind = kind
			vr.Insert(c)
		}
	}
	p.screen = newDevStrip(screen, p.font, []stripButton{
		{label: "Insert card 插卡 (" + card.Name + ")", do: insert(readertest.NHI)},
		{label: "Pull card 拔卡", do: vr.Remove},
		{label: "Insert mute card 反插", do: insert(readertest.Mute)},
	})
	fmt.Fprintf(stdout, "nhikiosk demo: the upstream (nhisim -dev) runs in this process at %s.\n"+
		"Use the yellow buttons along the bottom of the window to insert and pull the virtual card of\n"+
		"%s (ID %s). The e-mails nhisim would send are printed below, with their 6-digit codes.\n",
		dev.URL, card.Name, card.IDNumber)
	return p, stop, nil
}
