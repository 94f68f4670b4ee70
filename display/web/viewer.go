package web

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/nhikiosk/nhikiosk/display"
)

// viewer is one open page: its writer sends the parts of the frame that
// changed since its last batch, its reader turns the page's messages into
// input.
type viewer struct {
	s    *Screen
	conn *websocket.Conn
	wake chan struct{} // a batch is waiting (capacity 1)
	acks chan struct{} // the page drew a batch (capacity 1)
	gone chan struct{} // the reader ended
	enc  pngEncoder

	dirty []image.Rectangle // guarded by s.mu
	sent  atomic.Uint32     // batches sent (counted before sending: the page may answer at once)
	drawn atomic.Uint32     // the last batch the page drew
	down  map[int]bool      // pointers down on the page (reader only)
}

func newViewer(s *Screen, conn *websocket.Conn) *viewer {
	return &viewer{s: s, conn: conn, wake: make(chan struct{}, 1), acks: make(chan struct{}, 1),
		gone: make(chan struct{}), down: map[int]bool{}}
}

// mark adds changed rectangles; the caller holds s.mu.
func (v *viewer) mark(rs []image.Rectangle, full image.Rectangle) {
	v.dirty = coalesce(append(v.dirty, rs...), full)
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// run serves the page until it goes, the server closes, or a write fails.
func (v *viewer) run(ctx context.Context) error {
	go v.read()
	// The server closing tells the page why at once, even when the writer
	// is blocked on a slow page.
	var once sync.Once
	tell := func() {
		once.Do(func() {
			v.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "kiosk stopped"),
				time.Now().Add(time.Second))
			v.conn.Close()
		})
	}
	stop := context.AfterFunc(ctx, tell)
	err := v.write(ctx)
	stop()
	if ctx.Err() != nil {
		tell() // or wait for the AfterFunc's: the page hears why before the close
		err = nil
	}
	v.conn.Close()
	<-v.gone
	// A finger still down on a page that went away would hold a button
	// pressed: void it.
	for p := range v.down {
		v.s.send(display.Event{Kind: display.PointerCancel, Pointer: p})
	}
	return err
}

// hello tells the page which server it reached: a page from an earlier
// run (another size, other controls) reloads.
type hello struct {
	T    string `json:"t"`
	Boot string `json:"boot"`
	W    int    `json:"w"`
	H    int    `json:"h"`
}

func (v *viewer) write(ctx context.Context) error {
	b, _ := json.Marshal(hello{"hello", v.s.boot, v.s.o.Size.X, v.s.o.Size.Y})
	if err := v.send(websocket.TextMessage, b); err != nil {
		return err
	}
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-v.gone:
			return nil
		case <-ping.C:
			if err := v.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				return err
			}
			continue
		case <-v.wake:
		}
		if err := v.window(ctx); err != nil {
			return err
		}
		tiles := v.take()
		if len(tiles) == 0 {
			continue
		}
		msg, err := encodeBatch(v.sent.Load()+1, tiles, &v.enc)
		if err != nil {
			return err
		}
		v.sent.Add(1)
		v.s.mu.Lock()
		v.s.stats.Batches++
		v.s.stats.Tiles += int64(len(tiles))
		v.s.stats.Bytes += int64(len(msg))
		v.s.mu.Unlock()
		if err := v.send(websocket.BinaryMessage, msg); err != nil {
			return err
		}
	}
}

// window waits until fewer than maxInFlight batches are undrawn, so a
// slow page gets the newest picture, merged, instead of a backlog.
func (v *viewer) window(ctx context.Context) error {
	timeout := time.NewTimer(ackTimeout)
	defer timeout.Stop()
	for v.sent.Load()-v.drawn.Load() >= maxInFlight {
		select {
		case <-v.acks:
		case <-ctx.Done():
			return nil
		case <-v.gone:
			return nil
		case <-timeout.C:
			return fmt.Errorf("web: the page drew nothing for %v", ackTimeout)
		}
	}
	return nil
}

func (v *viewer) send(typ int, b []byte) error {
	v.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := v.conn.WriteMessage(typ, b); err != nil {
		return fmt.Errorf("web: send to viewer: %w", err)
	}
	return nil
}

// take copies out the changed parts of the frame, so encoding them does
// not hold up Present.
func (v *viewer) take() []*image.RGBA {
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	tiles := make([]*image.RGBA, 0, len(v.dirty))
	for _, r := range v.dirty {
		t := image.NewRGBA(r)
		src := v.s.frame
		for y := r.Min.Y; y < r.Max.Y; y++ {
			copy(t.Pix[t.PixOffset(r.Min.X, y):t.PixOffset(r.Max.X, y)], src.Pix[src.PixOffset(r.Min.X, y):src.PixOffset(r.Max.X, y)])
		}
		tiles = append(tiles, t)
	}
	v.dirty = v.dirty[:0]
	return tiles
}

// read handles the page's messages until the connection ends.
func (v *viewer) read() {
	defer close(v.gone)
	v.conn.SetReadLimit(maxMessage)
	v.conn.SetReadDeadline(time.Now().Add(readTimeout))
	v.conn.SetPongHandler(func(string) error { return v.conn.SetReadDeadline(time.Now().Add(readTimeout)) })
	for {
		typ, b, err := v.conn.ReadMessage()
		if err != nil {
			return
		}
		v.conn.SetReadDeadline(time.Now().Add(readTimeout))
		if typ != websocket.TextMessage {
			continue
		}
		m, err := parseMessage(b, v.s.o.Size)
		if err != nil {
			v.s.log.Debug("web display: bad message from page", "err", err)
			continue
		}
		v.handle(m)
	}
}

func (v *viewer) handle(m message) {
	switch m.kind {
	case msgInput:
		switch m.ev.Kind {
		case display.PointerDown:
			v.down[m.ev.Pointer] = true
		case display.PointerUp, display.PointerCancel:
			delete(v.down, m.ev.Pointer)
		case display.PointerMove:
			if !v.down[m.ev.Pointer] {
				return
			}
		}
		v.s.send(m.ev)
	case msgControl:
		v.s.press(m.n)
	case msgDrawn:
		// The page acknowledges batches in order; a number from the
		// future is a confused page, and counting it would open the
		// window wide.
		if n := uint32(m.n); n > v.drawn.Load() && n <= v.sent.Load() {
			v.drawn.Store(n)
			select {
			case v.acks <- struct{}{}:
			default:
			}
		}
	}
}
