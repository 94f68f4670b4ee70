// Package display owns everything a citizen sees on the kiosk's screen: it
// draws every frame in pure Go into an *image.RGBA (text through
// golang.org/x/image/font/opentype with a glyph cache, shapes through
// golang.org/x/image/vector), lays out widgets in density-independent
// units, routes pointer, touch and key input to them, and holds the
// message catalog and the themes.
//
// Backends (display/glfwscreen, display/fbdev, display/headless) implement
// Screen: they only show frames and deliver input. This package must not
// know about sessions, cards or the upstream, and must never log what a
// field holds; Field values are bytes it owns and zeroes on Wipe.
package display
