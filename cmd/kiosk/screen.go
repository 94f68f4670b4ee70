package main

import (
	"fmt"
	"image"
	"log/slog"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/headless"
	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/pcsc"
)

// Display backends beyond headless, set by backends.go when the display
// package has them: a GLFW window and the framebuffer.
var (
	openGLFW  func(cfg config.Config) (display.Screen, error)
	openFBDev func(cfg config.Config, log *slog.Logger) (display.Screen, error)
	// mainThread runs the program; the GLFW backend needs it to serve
	// GLFW from the main goroutine.
	mainThread = func(f func()) { f() }
)

// openScreen opens the configured display backend.
func openScreen(cfg config.Config, log *slog.Logger) (display.Screen, error) {
	var open func() (display.Screen, error)
	switch cfg.Display.Backend {
	case config.DisplayGLFW:
		if openGLFW != nil {
			open = func() (display.Screen, error) { return openGLFW(cfg) }
		}
	case config.DisplayFBDev:
		if openFBDev != nil {
			open = func() (display.Screen, error) { return openFBDev(cfg, log) }
		}
	default:
		return headless.New(screenSize(cfg, image.Pt(800, 480))), nil
	}
	if open == nil {
		return nil, fmt.Errorf("display.backend %s is not in this build yet (issue 4); -set display.backend=headless runs without a screen", cfg.Display.Backend)
	}
	s, err := open()
	if err != nil {
		return nil, fmt.Errorf("open %s display: %w", cfg.Display.Backend, err)
	}
	return s, nil
}

// newPCSC opens the PC/SC watcher (pcsc.ErrNoCgo in a build without cgo).
func newPCSC(name string) (reader.Device, error) {
	d, err := pcsc.New(pcsc.Options{Reader: name})
	if err != nil {
		return nil, err
	}
	return d, nil
}
