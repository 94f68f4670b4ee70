package main

import (
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"runtime"

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
// without cgo glfwscreen.Open says so), the framebuffer, a page in a
// browser (whose address it prints on stdout), or none. With fbdev, the
// touch devices follow hotplug through the shared uevent socket, and hw
// (if not nil) hears which there are.
func openScreen(cfg config.Config, log *slog.Logger, stdout io.Writer, hotplug *uevent.Mux, hw *hardware) (display.Screen, error) {
	var s display.Screen
	var err error
	switch cfg.Display.Backend {
	case config.DisplayWeb:
		return openWeb(cfg, nil, log, stdout)
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
		s, err = fbdev.Open(fbdev.Options{Log: log, Touch: to, Rotation: display.Rotation(cfg.Display.Rotation)})
	default:
		s = headless.New(screenSize(cfg, image.Pt(800, 480)))
	}
	if err != nil {
		return nil, fmt.Errorf("open %s display: %w", cfg.Display.Backend, err)
	}
	return s, nil
}

// noWindowSystem says why this kiosk cannot open a window here, or ""
// when it may: GLFW needs cgo and, outside macOS and Windows, an X11 or
// Wayland display named in the environment (a machine reached over SSH
// has none).
func noWindowSystem() string {
	switch runtime.GOOS {
	case "darwin", "windows":
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return "neither DISPLAY nor WAYLAND_DISPLAY is set"
		}
	}
	if !haveGLFW {
		return "this kiosk was built without GLFW windows (no cgo, or the noglfw tag)"
	}
	return ""
}

// newPCSC opens the PC/SC watcher (pcsc.ErrNoCgo in a build without cgo).
func newPCSC(name string) (reader.Device, error) {
	d, err := pcsc.New(pcsc.Options{Reader: name})
	if err != nil {
		return nil, err
	}
	return d, nil
}
