package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/nhikiosk/nhikiosk/config"
)

// start runs the kiosk on a validated configuration until ctx ends.
//
// The wizard (appliance.Run) is not built yet (issue 6). Until it is, the
// kiosk says so and shows the configuration it would run with, rather than
// pretending to serve anyone.
func start(ctx context.Context, cfg config.Config, o options, log *slog.Logger, stdout io.Writer) error {
	log.Info("kiosk configured", "site", cfg.Site, "kiosk", cfg.KioskID,
		"reader", cfg.Reader.Backend, "display", cfg.Display.Backend, "demo", o.demo)
	fmt.Fprintf(stdout, "nhikiosk: the wizard is not built yet; this kiosk would run with:\n%s", cfg.JSON())
	return nil
}
