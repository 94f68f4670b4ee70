// Package web is the display backend for machines without a display of
// their own (a server reached over SSH, a container, CI): a small HTTP
// server that shows the kiosk's frames in a browser page at the panel's
// size and turns clicks, touches and key presses in the page into the
// kiosk's input events (issue 23).
//
// The page is one HTML document with its script and style inline (no
// external JavaScript or CSS; its Content-Security-Policy allows nothing
// else). It opens a WebSocket back to the server; the server pushes the
// parts of the frame that changed as PNG tiles, never the whole frame
// unless all of it changed, and a browser that falls behind gets the
// latest picture, not a backlog (at most two batches are in flight). The
// page scales the panel to its window, keeping the aspect ratio, and can
// show a row of controls under the panel (the demo's developer strip).
//
// It serves loopback by default and then answers only to loopback host
// names (so a web site cannot reach it through DNS rebinding) and only to
// WebSockets from its own page. Bound to another address it logs, and says
// on the page, that anyone who reaches it can use the kiosk and see what
// is on its screen.
//
// It is for development and demonstration, never for a citizen: the
// gokrazy image does not contain it (cmd/kiosk imports it only in builds
// without the gokrazy tag, which the gokrazy-instance tests check). It
// only shows frames and reports input; it never interprets them.
package web
