// Command gallery shows the display engine's widget gallery on a backend:
// a GLFW window (default), the Linux framebuffer, a page in a browser
// (served on loopback), or headless to write one page as PNG. "Next" and "Back" move between the pages; "Done" on the
// keyboard closes it.
//
//	go run ./cmd/gallery                           # a window, 1280×800
//	go run ./cmd/gallery -lang en -theme large-text -size 800x480
//	go run ./cmd/gallery -backend headless -page choose -png choose.png
//	go run ./cmd/gallery -backend web              # prints the page's address
//	gallery -backend fbdev                         # on a console, /dev/fb0
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/fbdev"
	"github.com/nhikiosk/nhikiosk/display/gallery"
	"github.com/nhikiosk/nhikiosk/display/glfwscreen"
	"github.com/nhikiosk/nhikiosk/display/headless"
	"github.com/nhikiosk/nhikiosk/display/web"
)

type options struct {
	backend, lang, theme, page, png, font, listen string
	fontIndex                                     int
	size                                          image.Point
	dpi                                           float64
	fullscreen                                    bool
}

func main() {
	var err error
	glfwscreen.Main(func() { err = run() })
	if err != nil {
		fmt.Fprintln(os.Stderr, "gallery:", err)
		os.Exit(1)
	}
}

func run() error {
	var o options
	var size string
	flag.StringVar(&o.backend, "backend", config.DisplayGLFW, "glfw, fbdev, web or headless")
	flag.StringVar(&o.listen, "listen", "127.0.0.1:0", "web: address to serve the page on")
	flag.StringVar(&o.lang, "lang", display.LangZhTW, "zh-TW or en")
	flag.StringVar(&o.theme, "theme", "default", "default, high-contrast or large-text")
	flag.StringVar(&o.page, "page", "form", "first page: form, choose, status or idle")
	flag.StringVar(&o.png, "png", "", "headless: write the page to this PNG file")
	flag.StringVar(&o.font, "font", config.DebianFont, "font file with Traditional Chinese")
	flag.IntVar(&o.fontIndex, "font-index", config.DebianFontIndex, "face index in a .ttc")
	flag.StringVar(&size, "size", "1280x800", "frame size WxH (fbdev: the framebuffer's own)")
	flag.Float64Var(&o.dpi, "dpi", 96, "panel density for 9 mm touch targets")
	flag.BoolVar(&o.fullscreen, "fullscreen", false, "glfw: fullscreen and undecorated")
	flag.Parse()
	if _, err := fmt.Sscanf(size, "%dx%d", &o.size.X, &o.size.Y); err != nil {
		return fmt.Errorf("-size %q: want WxH", size)
	}
	if !slices.Contains(gallery.Pages, o.page) {
		return fmt.Errorf("-page %q: want one of %v", o.page, gallery.Pages)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return show(ctx, o)
}

func open(o options) (display.Screen, error) {
	switch o.backend {
	case config.DisplayGLFW:
		return glfwscreen.Open(glfwscreen.Options{Width: o.size.X, Height: o.size.Y, Fullscreen: o.fullscreen, Title: "nhikiosk gallery"})
	case config.DisplayFBDev:
		return fbdev.Open(fbdev.Options{})
	case config.DisplayHeadless:
		return headless.New(o.size), nil
	case config.DisplayWeb:
		s, err := web.Listen(web.Options{Addr: o.listen, Size: o.size, Title: "nhikiosk gallery"})
		if err == nil {
			fmt.Printf("gallery: open %s in a browser\n", s.URL())
		}
		return s, err
	}
	return nil, fmt.Errorf("-backend %q: want glfw, fbdev, web or headless", o.backend)
}

func show(ctx context.Context, o options) error {
	font, err := display.OpenFont(o.font, o.fontIndex)
	if err != nil {
		return err
	}
	defer font.Close()
	theme, err := display.ThemeByName(o.theme)
	if err != nil {
		return err
	}
	cat := display.NewCatalog()
	if err := gallery.AddMessages(cat); err != nil {
		return err
	}
	s, err := open(o)
	if err != nil {
		return err
	}
	defer s.Close()
	ui, err := display.New(display.Options{Font: font, Catalog: cat, Theme: theme, Lang: o.lang, Size: s.Size(), DPI: o.dpi})
	if err != nil {
		return err
	}
	goTo(ui, slices.Index(gallery.Pages, o.page))
	if hs, ok := s.(*headless.Screen); ok {
		return writePNG(ui, hs, o.png)
	}
	slog.Info("gallery shown", "backend", o.backend, "size", s.Size(), "lang", o.lang, "theme", o.theme)
	return ui.Run(ctx, s)
}

// goTo shows page i and wires its Next and Back buttons to the neighbours.
func goTo(ui *display.UI, i int) {
	n := len(gallery.Pages)
	i = (i + n) % n
	gallery.Show(ui, gallery.Pages[i])
	for id, step := range map[string]int{"next": 1, "back": -1, "idle.continue": 1, "idle.end": -1} {
		if b, ok := ui.Find(id).(*display.Button); ok {
			b.OnTap = func() { goTo(ui, i+step) }
		}
	}
}

func writePNG(ui *display.UI, s *headless.Screen, path string) error {
	if path == "" {
		return errors.New("-backend headless needs -png FILE")
	}
	frame, dirty := ui.Render()
	if err := s.Present(frame, dirty); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("write PNG: %w", err)
	}
	if err := s.WritePNG(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write PNG: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write PNG: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write PNG: %w", err)
	}
	return nil
}
