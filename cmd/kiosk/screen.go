package main

import (
	"fmt"
	"image"
	"log/slog"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/evdev"
	"github.com/nhikiosk/nhikiosk/display/fbdev"
	"github.com/nhikiosk/nhikiosk/display/glfwscreen"
	"github.com/nhikiosk/nhikiosk/display/headless"
	"github.com/nhikiosk/nhikiosk/internal/uevent"
	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/pcsc"
)

// openScreen opens the configured display backend: a GLFW window (cgo;
// without cgo glfwscreen.Open says so), the framebuffer, or none.
// With fbdev, hw (if not nil) follows the touch devices.
func openScreen(cfg config.Config, log *slog.Logger, hotplug *uevent.Mux, hw *hardware) (display.Screen, error) {
	var s display.Screen
	var err error
	switch cfg.Display.Backend {
	case config.DisplayGLFW:
		size := screenSize(cfg, image.Pt(1280, 800))
		if cfg.Display.Fullscreen {
			size = screenSize(cfg, image.Point{})
		}
		s, err = glfwscreen.Open(glfwscreen.Options{Width: size.X, Height: size.Y, Fullscreen: cfg.Display.Fullscreen, Title: "nhikiosk"})
	case config.DisplayFBDev:
		to := evdev.Options{Uevents: subscribe(hotplug, log)}
		if hw != nil {
			hw.followTouch()
			to.Changed = hw.touchDevices
		}
		s, err = fbdev.Open(fbdev.Options{Log: log, Touch: to})
	default:
		s = headless.New(screenSize(cfg, image.Pt(800, 480)))
	}
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
