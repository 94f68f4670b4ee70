package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/appliance/devices"
	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/internal/uevent"
	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/ccid"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// parts are the real things the wizard runs on.
type parts struct {
	reader reader.Device
	screen display.Screen
	client *upstream.Client
	font   *display.Font
	theme  display.Theme
}

// start runs the kiosk on a validated configuration until ctx ends or the
// window closes: the card reader's watch, the outbox's sender and the
// wizard on the screen.
func start(ctx context.Context, cfg config.Config, o options, log *slog.Logger, stdout io.Writer) error {
	log.Info("kiosk starting", "site", cfg.Site, "kiosk", cfg.KioskID,
		"reader", cfg.Reader.Backend, "display", cfg.Display.Backend, "demo", o.demo)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var p parts
	var err error
	hw := newHardware(log, hardwareGrace)
	if o.demo {
		var stop func()
		p, stop, err = demoParts(ctx, &cfg, o, log, stdout)
		if stop != nil {
			defer stop()
		}
	} else {
		p, err = realParts(cfg, log, stdout, hw)
	}
	if err != nil {
		return err
	}
	defer p.screen.Close()
	kc, err := newKioskClock(cfg, realClockParts(), log)
	if err != nil {
		return err
	}
	defer kc.close()
	kp, err := openPanel(cfg, log)
	if err != nil {
		return err
	}
	p.reader, p.screen = kp.wrap(p.reader, p.screen)
	screen := newRecScreen(p.screen, log)
	ui, err := display.New(display.Options{Font: p.font, Catalog: display.NewCatalog(), Theme: p.theme,
		Lang: cfg.Language, Size: p.screen.Size(), DPI: cfg.Display.DPI})
	if err != nil {
		return fmt.Errorf("start display: %w", err)
	}
	kf := newKioskFleet(cfg, o, p, screen, log, cancel)
	kf.stopped = ctx.Done()
	s := cfg.Session
	k, err := appliance.NewKiosk(ui, appliance.Options{
		Lang: cfg.Language, IdleTimeout: s.IdleTimeout.D(), WarningCountdown: s.WarningCountdown.D(),
		RemovedScreen: s.RemovedScreen.D(), MaxDuration: s.MaxDuration.D(), Log: log,
		Card: devices.Card{Device: tapReader{p.reader, kf}}, CardKey: devices.CardErrorKey,
		Upstream:     devices.Upstream{Client: p.client, KioskID: cfg.KioskID, CacheDir: filepath.Join(cfg.DataDir, "cache"), Log: log},
		CardCheck:    devices.CardCheck{Device: tapReader{p.reader, kf}, Client: p.client, Log: log},
		ClockUnknown: !kc.known,
	})
	if err != nil {
		return err
	}
	kp.attach(k)
	audio, err := newAudio(cfg, ui, k, log)
	if err != nil {
		return err
	}
	kp.attachAudio(audio)
	kc.attach(k.Post)
	kf.k, kf.clock = k, kc.health
	hw.attach(k.Post, func(kind fleet.EventKind) { kf.event(kind, fleet.EventFields{}) })
	// An opened case is an alert for the operator (fleetd keeps it until
	// acknowledged); closing it needs no event.
	kp.OnTamper(func(open bool) {
		if open {
			kf.event(fleet.EvTamper, fleet.EventFields{})
		}
	})
	agent, err := newFleetAgent(cfg, kf)
	if err != nil {
		return &exitError{exitNoRestart, err}
	}
	cards := make(chan appliance.Event, 8)
	g, gctx := errgroup.WithContext(ctx)
	if agent != nil {
		g.Go(func() error { return agent.Run(gctx) })
		g.Go(func() error { return kf.run(gctx) })
	}
	g.Go(func() error {
		return devices.WatchCardsObserved(gctx, p.reader, cards, func(ev reader.Event) {
			kf.observeReader(ev)
			hw.readerEvent(ev)
		})
	})
	g.Go(func() error { return hw.run(gctx) })
	g.Go(func() error { return p.client.Run(gctx) })
	g.Go(func() error { return watchUI(gctx, ui, uiStallTimeout) })
	g.Go(func() error { return kp.Run(gctx) })
	g.Go(func() error { return audio.run(gctx) })
	g.Go(func() error { return kc.keeper.Run(gctx) })
	g.Go(func() error {
		defer cancel(nil) // the window closed: stop everything
		return k.Run(gctx, screen, cards)
	})
	err = g.Wait()
	if errors.Is(context.Cause(ctx), errRestartRequested) {
		log.Info("kiosk stopped to restart")
		return &exitError{exitRestart, errRestartRequested}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("kiosk stopped")
	return nil
}

// newKioskFleet is the fleet side of a kiosk on parts p; restart stops
// start with a cause.
func newKioskFleet(cfg config.Config, o options, p parts, screen *recScreen, log *slog.Logger, restart context.CancelCauseFunc) *kioskFleet {
	kf := &kioskFleet{cfg: cfg, o: o, screen: screen, paths: realSysPaths, now: time.Now, booted: time.Now(),
		log: log, restart: restart, onGokrazy: onGokrazy, reboot: rebootMachine}
	if p.client != nil {
		kf.probe = p.client
		if ob := p.client.Outbox(); ob != nil {
			kf.outbox = ob
		}
	}
	return kf
}

// realParts opens the configured reader, screen, font and upstream. What
// is missing or not built in is an exitNoRestart error saying so.
func realParts(cfg config.Config, log *slog.Logger, stdout io.Writer, hw *hardware) (parts, error) {
	var p parts
	var err error
	if p.font, p.theme, err = display.Configured(cfg.Display); err != nil {
		return p, &exitError{exitNoRestart, err}
	}
	// One kernel uevent socket for the card readers and the touch
	// devices, which both come and go.
	hotplug := uevent.NewMux(uevent.Netlink)
	if p.reader, err = openReader(cfg, log, hotplug); err != nil {
		return p, &exitError{exitNoRestart, err}
	}
	if p.client, err = upstream.FromConfig(cfg, log); err != nil {
		return p, &exitError{exitNoRestart, fmt.Errorf("upstream: %w", err)}
	}
	if p.screen, err = openScreen(cfg, log, stdout, hotplug, hw); err != nil {
		return p, &exitError{exitNoRestart, err}
	}
	return p, nil
}

// openReader builds the configured card reader: PC/SC through pcscd
// (cgo), or CCID over usbfs (pure Go, the appliance). Neither touches the
// hardware until the wizard runs it.
func openReader(cfg config.Config, log *slog.Logger, hotplug *uevent.Mux) (reader.Device, error) {
	switch cfg.Reader.Backend {
	case config.ReaderPCSC:
		d, err := newPCSC(cfg.Reader.Name)
		if err != nil {
			return nil, fmt.Errorf("open PC/SC reader: %w", err)
		}
		return d, nil
	case config.ReaderCCID:
		return ccid.NewDevice(ccid.Options{Name: cfg.Reader.Name, Log: log, Uevents: subscribe(hotplug, log)}), nil
	}
	return nil, fmt.Errorf("reader.backend %s is only for -demo", cfg.Reader.Backend)
}

// subscribe returns a subscription to the shared uevent socket, or nil
// (the part then opens its own, and says why it cannot) when there is
// none.
func subscribe(hotplug *uevent.Mux, log *slog.Logger) uevent.Source {
	if hotplug == nil {
		return nil
	}
	src, err := hotplug.Subscribe()
	if err != nil {
		log.Warn("no kernel uevents", "err", err)
		return nil
	}
	return src
}

// screenSize is the configured size, or a default for backends that have
// none of their own.
func screenSize(cfg config.Config, def image.Point) image.Point {
	if cfg.Display.Width > 0 && cfg.Display.Height > 0 {
		return image.Pt(cfg.Display.Width, cfg.Display.Height)
	}
	return def
}
