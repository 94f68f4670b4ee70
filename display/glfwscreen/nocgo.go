//go:build !cgo || noglfw

package glfwscreen

import "github.com/nhikiosk/nhikiosk/display"

// Main runs app; without cgo there is no window system thread to serve.
func Main(app func()) { app() }

// Open fails: this binary has no GLFW.
func Open(Options) (display.Screen, error) { return nil, ErrNoCgo }

// Built reports whether this build has GLFW windows.
const Built = false
