//go:build !gokrazy

package main

import (
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/web"
)

// openWeb serves the kiosk's screen as a page in a browser, with the
// strip's buttons under it, and prints the page's address on stdout. The
// gokrazy image is built without it (screen_noweb.go).
func openWeb(cfg config.Config, strip []stripButton, log *slog.Logger, stdout io.Writer) (display.Screen, error) {
	o := web.Options{Addr: cfg.Display.WebListen, Size: screenSize(cfg, image.Pt(1280, 800)), Title: "nhikiosk", Log: log}
	for _, b := range strip {
		o.Controls = append(o.Controls, web.Control{ID: b.id, Label: b.label, Do: b.do})
	}
	s, err := web.Listen(o)
	if errors.Is(err, syscall.EADDRINUSE) && cfg.Display.WebListen == config.DefaultWebListen {
		// Another kiosk (or anything) has the usual port: any free one
		// will do, the address is printed.
		log.Warn("web display: the usual port is taken; using a free one", "addr", config.DefaultWebListen)
		o.Addr = "127.0.0.1:0"
		s, err = web.Listen(o)
	}
	if err != nil {
		return nil, fmt.Errorf("open web display: %w", err)
	}
	fmt.Fprintf(stdout, "nhikiosk: the kiosk's screen is at %s: open it in a browser.\n", s.URL())
	if s.Exposed() {
		fmt.Fprint(stdout, exposedBanner(cfg.Display.WebListen))
		return s, nil
	}
	_, port, _ := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(s.URL(), "http://"), "/"))
	fmt.Fprintf(stdout, "From another machine: ssh -L %s:127.0.0.1:%s THIS-HOST, then open the same address there.\n", port, port)
	return s, nil
}

// exposedBanner is what the kiosk prints when its web display listens
// beyond loopback.
func exposedBanner(addr string) string {
	line := strings.Repeat("!", 78)
	return fmt.Sprintf("%s\n"+
		"!! WARNING: the kiosk's screen is served on %s, beyond this machine.\n"+
		"!! Anyone who can reach that address can see the kiosk's screen, with the\n"+
		"!! personal data on it, and use the kiosk, without a password, over plain HTTP.\n"+
		"!! Use display.web_listen=127.0.0.1:PORT and an SSH tunnel instead.\n%s\n", line, addr, line)
}
