//go:build gokrazy

package main

import (
	"errors"
	"io"
	"log/slog"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
)

// openWeb fails: the gokrazy image has no web display, which would let
// anyone on the network use the kiosk (issue 23).
func openWeb(config.Config, []stripButton, *slog.Logger, io.Writer) (display.Screen, error) {
	return nil, errors.New("open web display: not in this build (the gokrazy image leaves the web display out; use fbdev)")
}
