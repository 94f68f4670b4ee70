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
func demoParts(ctx context.Context, cfg *config.Config, o options, log *slog.Logger, stdout io.Writer) (parts, func(), error) {
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
	strip := []stripButton{
		{id: "insert", label: "Insert card 插卡 (" + card.Name + ")", do: insert(readertest.NHI)},
		{id: "pull", label: "Pull card 拔卡", do: vr.Remove},
		{id: "mute", label: "Insert mute card 反插", do: insert(readertest.Mute)},
	}
	if p.screen, err = openDemoScreen(cfg, o, strip, p.font, log, stdout); err != nil {
		return p, stop, &exitError{exitNoRestart, err}
	}
	where := "window"
	if cfg.Display.Backend == config.DisplayWeb {
		where = "page"
	}
	fmt.Fprintf(stdout, "nhikiosk demo: the upstream (nhisim -dev) runs in this process at %s.\n"+
		"Use the yellow buttons along the bottom of the %s to insert and pull the virtual card of\n"+
		"%s (ID %s). The e-mails nhisim would send are printed below, with their 6-digit codes.\n",
		dev.URL, where, card.Name, card.IDNumber)
	return p, stop, nil
}

// openDemoScreen opens the demo's screen with the developer strip: the
// page's own buttons under the panel on the web display, a band along the
// bottom of a window otherwise. Unless -set chose the backend, a demo
// that cannot open a window (no display) shows itself in a browser.
func openDemoScreen(cfg *config.Config, o options, strip []stripButton, font *display.Font, log *slog.Logger, stdout io.Writer) (display.Screen, error) {
	if cfg.Display.Backend == config.DisplayWeb {
		if !o.chose("display.backend") {
			log.Info("demo: no window here, so the kiosk's screen is a web page", "why", noWindowSystem())
		}
		return openWeb(*cfg, strip, log, stdout)
	}
	screen, err := openScreen(*cfg, log, stdout, nil, nil)
	if err != nil && cfg.Display.Backend == config.DisplayGLFW && !o.chose("display.backend") {
		log.Warn("demo: the window did not open, so the kiosk's screen is a web page", "err", err)
		cfg.Display.Backend = config.DisplayWeb
		return openWeb(*cfg, strip, log, stdout)
	}
	if err != nil {
		return nil, err
	}
	return newDevStrip(screen, font, strip), nil
}
