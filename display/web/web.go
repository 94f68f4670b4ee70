package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/nhikiosk/nhikiosk/display"
)

// DefaultAddr is where Listen serves when Options.Addr is empty: loopback,
// a free port.
const DefaultAddr = "127.0.0.1:0"

// Limits of the server. A viewer is one open page.
const (
	maxViewers   = 8
	maxInFlight  = 2                // frame batches sent and not yet drawn by a viewer
	maxTiles     = 12               // changed rectangles kept apart before they merge
	writeTimeout = 10 * time.Second // one message to a viewer
	ackTimeout   = 30 * time.Second // a viewer that draws nothing for this long is dropped
	pingEvery    = 20 * time.Second
	readTimeout  = 3 * pingEvery // no message or pong for this long ends a viewer
	maxMessage   = 1024          // bytes of one message from a page
)

// Options configure the server.
type Options struct {
	// Addr is the TCP address to listen on (DefaultAddr if empty). An
	// address that is not loopback makes Listen log a warning, and the
	// page say, that anyone who reaches it can use the kiosk.
	Addr string
	// Size of the panel: the frames' size in pixels.
	Size image.Point
	// Title of the page.
	Title string
	// Controls are buttons the page shows under the panel (the demo's
	// developer strip).
	Controls []Control
	// Log receives the server's events (slog.Default() if nil).
	Log *slog.Logger
}

// Control is a button under the panel. Pressing it runs Do on the
// server's control goroutine, one press after the other.
type Control struct {
	// ID names the button: its element id is "control-" + ID.
	ID    string
	Label string
	Do    func()
}

// Stats count what the server sent to viewers since it started.
type Stats struct {
	Viewers int   // open now
	Batches int64 // frame updates sent
	Tiles   int64 // changed rectangles sent
	Bytes   int64 // of frame updates
	Dropped int64 // input events dropped because the queue was full
}

// Screen is a display.Screen shown in browser pages. Present never waits
// for a browser. It is safe for concurrent use.
type Screen struct {
	o        Options
	log      *slog.Logger
	ln       net.Listener
	srv      *http.Server
	url      string
	exposed  bool
	boot     string
	page     []byte
	events   chan display.Event
	controls chan func()
	upgrader websocket.Upgrader
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu      sync.Mutex
	frame   *image.RGBA
	viewers map[*viewer]struct{}
	closed  bool
	stats   Stats
}

// Listen starts serving the page on o.Addr. The server runs until Close.
func Listen(o Options) (*Screen, error) {
	if o.Size.X <= 0 || o.Size.Y <= 0 || o.Size.X > 0xffff || o.Size.Y > 0xffff {
		return nil, fmt.Errorf("web: panel size %v", o.Size)
	}
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("web: listen on %s: %w", o.Addr, err)
	}
	tcp := ln.Addr().(*net.TCPAddr)
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1" // every interface: this machine reaches it on loopback
	}
	b := make([]byte, 8)
	rand.Read(b)
	s := &Screen{o: o, log: o.Log, ln: ln, exposed: !tcp.IP.IsLoopback(), boot: hex.EncodeToString(b),
		url:    "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port)) + "/",
		events: make(chan display.Event, 256), controls: make(chan func(), 8),
		frame: image.NewRGBA(image.Rectangle{Max: o.Size}), viewers: map[*viewer]struct{}{}}
	// Until the first Present the panel is black; tiles are sent without
	// alpha, so the frame is kept opaque.
	draw.Draw(s.frame, s.frame.Rect, image.NewUniform(color.Black), image.Point{}, draw.Src)
	// The default origin check (an Origin header must name the host
	// asked for) keeps other sites' pages from opening the socket.
	s.upgrader = websocket.Upgrader{ReadBufferSize: maxMessage, WriteBufferSize: 64 << 10, HandshakeTimeout: writeTimeout}
	if s.page, err = renderPage(s); err != nil {
		ln.Close()
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.servePage)
	mux.HandleFunc("GET /ws", s.serveSocket)
	var h http.Handler = mux
	if !s.exposed {
		h = loopbackHosts(mux)
	}
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: writeTimeout, IdleTimeout: time.Minute}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.srv.Serve(ln) }()
	go func() { defer s.wg.Done(); s.runControls() }()
	if s.exposed {
		s.log.Warn("web display: serving beyond loopback: anyone who can reach it can see the kiosk's screen and use the kiosk",
			"addr", ln.Addr().String())
	}
	s.log.Info("web display: serving", "url", s.url)
	return s, nil
}

// URL is the page's address (on loopback when the server listens on
// every interface).
func (s *Screen) URL() string { return s.url }

// Exposed reports whether the server listens beyond loopback.
func (s *Screen) Exposed() bool { return s.exposed }

// Size returns the panel size.
func (s *Screen) Size() image.Point { return s.o.Size }

// Events returns the input from every open page, in frame pixels; it is
// closed by Close.
func (s *Screen) Events() <-chan display.Event { return s.events }

// Present copies the dirty parts of frame (all of it when dirty is empty)
// and wakes every viewer to send them. It does not wait for viewers.
func (s *Screen) Present(frame *image.RGBA, dirty []image.Rectangle) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("web: present: screen closed")
	}
	if frame.Rect != s.frame.Rect {
		return fmt.Errorf("web: present: frame %v on a %v screen", frame.Rect, s.frame.Rect)
	}
	if len(dirty) == 0 {
		dirty = []image.Rectangle{frame.Rect}
	}
	for _, r := range dirty {
		draw.Draw(s.frame, r, frame, r.Min, draw.Src)
	}
	for v := range s.viewers {
		v.mark(dirty, s.frame.Rect)
	}
	return nil
}

// Frame returns a copy of the frame as presented.
func (s *Screen) Frame() *image.RGBA {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := image.NewRGBA(s.frame.Rect)
	copy(c.Pix, s.frame.Pix)
	return c
}

// Stats returns what was sent so far.
func (s *Screen) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Viewers = len(s.viewers)
	return st
}

// Close stops the server, tells open pages the kiosk stopped, and closes
// the event channel.
func (s *Screen) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.events)
	s.mu.Unlock()
	s.cancel()
	err := s.srv.Close()
	s.wg.Wait()
	return err
}

// send queues an input event, dropping it when the queue is full (a
// kiosk that stopped reading input must not stall the server).
func (s *Screen) send(ev display.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.events <- ev:
	default:
		s.stats.Dropped++
	}
}

// press queues control i's action.
func (s *Screen) press(i int) {
	if i < 0 || i >= len(s.o.Controls) || s.o.Controls[i].Do == nil {
		return
	}
	select {
	case s.controls <- s.o.Controls[i].Do:
	default:
	}
}

func (s *Screen) runControls() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case f := <-s.controls:
			f()
		}
	}
}

// servePage serves the one page. Frames never go through it, but it is
// not cached all the same.
func (s *Screen) servePage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.Write(s.page)
}

// serveSocket upgrades to the WebSocket one page uses for frames and input.
func (s *Screen) serveSocket(w http.ResponseWriter, r *http.Request) {
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade answered the request
	}
	v := newViewer(s, conn)
	s.mu.Lock()
	full := s.closed || len(s.viewers) >= maxViewers
	if !full {
		s.viewers[v] = struct{}{}
		v.mark([]image.Rectangle{s.frame.Rect}, s.frame.Rect)
		s.wg.Add(1)
	}
	n := len(s.viewers)
	s.mu.Unlock()
	if full {
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "too many viewers"),
			time.Now().Add(writeTimeout))
		conn.Close()
		return
	}
	defer s.wg.Done()
	s.log.Info("web display: viewer connected", "remote", r.RemoteAddr, "viewers", n)
	err = v.run(s.ctx)
	s.mu.Lock()
	delete(s.viewers, v)
	n = len(s.viewers)
	s.mu.Unlock()
	s.log.Info("web display: viewer gone", "remote", r.RemoteAddr, "viewers", n, "err", err)
}

// loopbackHosts refuses requests whose Host is not a loopback name: a page
// of another site that rebinds its own name to 127.0.0.1 reaches the port
// but names its own host.
func loopbackHosts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopbackHost(r.Host) {
			http.Error(w, "this kiosk display answers only to localhost", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
