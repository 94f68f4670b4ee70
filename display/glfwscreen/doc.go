// Package glfwscreen is the display backend for hosts with a window system
// (developer machines, Raspberry Pi OS or x86 kiosks under X11 or Wayland):
// a GLFW window, windowed for development or fullscreen and undecorated
// for a kiosk, that shows each frame as one OpenGL texture and reports
// mouse, touch (as the window system's pointer) and keyboard input.
//
// GLFW needs cgo and must be driven from the process's main OS thread:
// call Main from main (or TestMain) and run the program inside it. Built
// without cgo (the gokrazy image), Open returns ErrNoCgo and Main just
// runs the program, so everything else still compiles. The build tag
// noglfw leaves GLFW out the same way on a host whose X11/OpenGL headers
// are missing (scripts/test.sh sets it there).
//
// It only shows frames and reports input; it never interprets them.
package glfwscreen

import (
	"errors"
	"image"
)

// ErrNoCgo is returned by Open in a binary built with CGO_ENABLED=0 or
// the noglfw tag.
var ErrNoCgo = errors.New("glfwscreen: built without GLFW (no cgo, or the noglfw tag: install the X11/OpenGL headers, .ci/packages/display.txt); use the web, fbdev or headless backend")

// Options configure the window.
type Options struct {
	// Width and Height of a windowed frame; fullscreen always takes the
	// primary monitor's current mode.
	Width, Height int
	// Fullscreen puts an undecorated window over the primary monitor.
	Fullscreen bool
	// Title names the window (the integration test finds it by title).
	Title string
	// Pos places a windowed window's top-left corner.
	Pos image.Point
}
