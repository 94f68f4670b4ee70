package web

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/nhikiosk/nhikiosk/display"
)

// listen starts a server for a test, closed when it ends.
func listen(t *testing.T, o Options) *Screen {
	t.Helper()
	if o.Size == (image.Point{}) {
		o.Size = image.Pt(320, 240)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := Listen(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// page is a test's WebSocket client playing the page: it keeps its own
// copy of the frame from the batches it receives.
type page struct {
	t     *testing.T
	conn  *websocket.Conn
	frame *image.RGBA
	hello hello
}

func dial(t *testing.T, s *Screen) *page {
	t.Helper()
	url := "ws" + strings.TrimPrefix(s.URL(), "http") + "ws"
	conn, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {strings.TrimSuffix(s.URL(), "/")}})
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", url, err, resp)
	}
	t.Cleanup(func() { conn.Close() })
	p := &page{t: t, conn: conn, frame: image.NewRGBA(image.Rectangle{Max: s.Size()})}
	typ, b, err := p.read()
	if err != nil || typ != websocket.TextMessage {
		t.Fatalf("first message: %v %d", err, typ)
	}
	if err := json.Unmarshal(b, &p.hello); err != nil || p.hello.T != "hello" {
		t.Fatalf("hello = %s, %v", b, err)
	}
	return p
}

func (p *page) read() (int, []byte, error) {
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	return p.conn.ReadMessage()
}

// batch reads the next batch, draws its tiles into the page's frame and
// returns its number, its tiles' rectangles and its size in bytes.
func (p *page) batch() (uint32, []image.Rectangle, int) {
	p.t.Helper()
	typ, b, err := p.read()
	if err != nil || typ != websocket.BinaryMessage {
		p.t.Fatalf("read batch: %v (type %d)", err, typ)
	}
	if !bytes.Equal(b[:4], batchMagic[:]) {
		p.t.Fatalf("batch magic % x", b[:4])
	}
	seq, n := binary.LittleEndian.Uint32(b[4:]), int(binary.LittleEndian.Uint16(b[8:]))
	var rects []image.Rectangle
	off := batchHeader
	for range n {
		x, y := int(binary.LittleEndian.Uint16(b[off:])), int(binary.LittleEndian.Uint16(b[off+2:]))
		l := int(binary.LittleEndian.Uint32(b[off+4:]))
		off += tileHeader
		img, err := png.Decode(bytes.NewReader(b[off : off+l]))
		if err != nil {
			p.t.Fatalf("tile at %d,%d: %v", x, y, err)
		}
		off += l
		r := img.Bounds().Sub(img.Bounds().Min).Add(image.Pt(x, y))
		draw.Draw(p.frame, r, img, img.Bounds().Min, draw.Src)
		rects = append(rects, r)
	}
	if off != len(b) {
		p.t.Fatalf("batch has %d bytes after its tiles", len(b)-off)
	}
	return seq, rects, len(b)
}

func (p *page) send(m string) {
	p.t.Helper()
	if err := p.conn.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
		p.t.Fatal(err)
	}
}

func (p *page) drawn(seq uint32) {
	p.t.Helper()
	b, _ := json.Marshal(map[string]any{"t": "drawn", "n": seq})
	p.send(string(b))
}

// pattern is a frame no two pixels of which are alike in a row.
func pattern(size image.Point, salt uint8) *image.RGBA {
	f := image.NewRGBA(image.Rectangle{Max: size})
	for y := range size.Y {
		for x := range size.X {
			f.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), uint8(x+y) ^ salt, 0xff})
		}
	}
	return f
}

func sameFrame(t *testing.T, what string, got, want *image.RGBA) {
	t.Helper()
	if !bytes.Equal(got.Pix, want.Pix) {
		t.Fatalf("%s: the page's frame differs from the one presented", what)
	}
}

// TestOnlyChangesSent presents a whole frame, then one small change: the
// page gets the whole frame once, then only the changed rectangle, and
// its copy equals what was presented.
func TestOnlyChangesSent(t *testing.T) {
	s := listen(t, Options{})
	frame := pattern(s.Size(), 0)
	if err := s.Present(frame, nil); err != nil {
		t.Fatal(err)
	}
	p := dial(t, s)
	if p.hello.W != 320 || p.hello.H != 240 || p.hello.Boot == "" {
		t.Errorf("hello = %+v", p.hello)
	}
	seq, rects, _ := p.batch()
	if want := []image.Rectangle{image.Rect(0, 0, 320, 240)}; seq != 1 || !cmp.Equal(rects, want) {
		t.Fatalf("first batch %d %v, want 1 %v", seq, rects, want)
	}
	sameFrame(t, "first batch", p.frame, frame)
	p.drawn(seq)

	key := image.Rect(100, 50, 140, 90)
	draw.Draw(frame, key, image.NewUniform(color.RGBA{0xff, 0, 0, 0xff}), image.Point{}, draw.Src)
	if err := s.Present(frame, []image.Rectangle{key}); err != nil {
		t.Fatal(err)
	}
	seq, rects, n := p.batch()
	if seq != 2 || !cmp.Equal(rects, []image.Rectangle{key}) {
		t.Fatalf("second batch %d %v, want 2 [%v]", seq, rects, key)
	}
	if n > 1000 {
		t.Errorf("a 40×40 change took %d bytes", n)
	}
	sameFrame(t, "after a change", p.frame, frame)
	if st := s.Stats(); st.Batches != 2 || st.Tiles != 2 || st.Viewers != 1 {
		t.Errorf("stats = %+v, want 2 batches of 1 tile, 1 viewer", st)
	}
}

// TestSlowPageGetsLatest: a page that draws nothing gets two batches and
// no more; once it catches up it gets the newest frame in one batch.
func TestSlowPageGetsLatest(t *testing.T) {
	s := listen(t, Options{})
	p := dial(t, s)
	seq1, _, _ := p.batch() // the blank frame on connect
	var last *image.RGBA
	for i := range 20 {
		last = pattern(s.Size(), uint8(i))
		r := image.Rect(i*10, 0, i*10+10, 10)
		if err := s.Present(last, []image.Rectangle{r}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	seq2, _, _ := p.batch()
	p.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, _, err := p.conn.ReadMessage(); err == nil {
		t.Fatal("a third batch came before the page drew the first")
	}
	// The read deadline broke the connection; a new page catches up.
	p = dial(t, s)
	want := s.Frame()
	_, _, _ = p.batch()
	sameFrame(t, "reconnected", p.frame, want)
	if seq1 != 1 || seq2 != 2 {
		t.Errorf("batches %d, %d, want 1, 2", seq1, seq2)
	}
}

// TestWindowMerges: after the page acknowledges, everything presented
// meanwhile comes as one batch.
func TestWindowMerges(t *testing.T) {
	s := listen(t, Options{})
	p := dial(t, s)
	seq, _, _ := p.batch()
	frame := pattern(s.Size(), 7)
	s.Present(frame, []image.Rectangle{image.Rect(0, 0, 10, 10)})
	seq2, _, _ := p.batch()
	// Two batches are undrawn: these wait.
	s.Present(frame, []image.Rectangle{image.Rect(20, 20, 30, 30)})
	s.Present(frame, []image.Rectangle{image.Rect(40, 40, 50, 50)})
	time.Sleep(50 * time.Millisecond)
	p.drawn(seq)
	p.drawn(seq2)
	_, rects, _ := p.batch()
	want := []image.Rectangle{image.Rect(20, 20, 30, 30), image.Rect(40, 40, 50, 50)}
	if diff := cmp.Diff(want, rects); diff != "" {
		t.Errorf("merged batch (-want +got):\n%s", diff)
	}
}

func TestInput(t *testing.T) {
	pressed := make(chan string, 1)
	s := listen(t, Options{Controls: []Control{{ID: "insert", Label: "Insert", Do: func() { pressed <- "insert" }}}})
	p := dial(t, s)
	p.batch()
	for _, m := range []string{
		`{"t":"down","x":10.4,"y":20,"p":0}`, `{"t":"move","x":-5,"y":900,"p":0}`, `{"t":"up","x":12,"y":22,"p":0}`,
		`{"t":"move","x":1,"y":1,"p":0}`, // no pointer down: dropped
		`{"t":"key","k":"Backspace"}`, `{"t":"text","s":"a"}`, `{"t":"text","s":"測試"}`,
		`{"t":"key","k":"F1"}`, `{"t":"text","s":"\u0007"}`, `not json`, // refused
		`{"t":"down","x":5,"y":5,"p":3}`,
	} {
		p.send(m)
	}
	want := []display.Event{
		{Kind: display.PointerDown, X: 10, Y: 20},
		{Kind: display.PointerMove, X: 0, Y: 239},
		{Kind: display.PointerUp, X: 12, Y: 22},
		{Kind: display.KeyPress, Key: display.KeyBackspace},
		{Kind: display.KeyPress, Rune: 'a'},
		{Kind: display.KeyPress, Text: "測試"},
		{Kind: display.PointerDown, X: 5, Y: 5, Pointer: 3},
	}
	for i, w := range want {
		if got := next(t, s); got != w {
			t.Errorf("event %d = %+v, want %+v", i, got, w)
		}
	}
	p.send(`{"t":"control","n":0}`)
	select {
	case c := <-pressed:
		if c != "insert" {
			t.Errorf("pressed %q", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the control did not run")
	}
	// The page goes with pointer 3 down: the kiosk hears it cancelled.
	p.conn.Close()
	if got, want := next(t, s), (display.Event{Kind: display.PointerCancel, Pointer: 3}); got != want {
		t.Errorf("after the page went: %+v, want %+v", got, want)
	}
}

func next(t *testing.T, s *Screen) display.Event {
	t.Helper()
	select {
	case ev := <-s.Events():
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no input event")
	}
	return display.Event{}
}

// TestOnlyLoopbackNames: on loopback the server refuses other host names
// (DNS rebinding) and sockets opened by other sites' pages.
func TestOnlyLoopbackNames(t *testing.T) {
	s := listen(t, Options{})
	for _, tt := range []struct {
		name, host, origin string
		want               int
	}{
		{"page by IP", "", "", http.StatusOK},
		{"page as localhost", "localhost", "", http.StatusOK},
		{"rebound name", "evil.example", "", http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", s.URL(), nil)
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	url := "ws" + strings.TrimPrefix(s.URL(), "http") + "ws"
	_, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"http://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("socket from another origin: %v %v, want 403", err, resp)
	}
}

func TestPage(t *testing.T) {
	s := listen(t, Options{Title: "nhikiosk <test>", Controls: []Control{{ID: "pull", Label: "Pull card 拔卡"}}})
	resp, err := http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	page := string(body)
	for _, want := range []string{`<title>nhikiosk &lt;test&gt;</title>`, `width="320" height="240"`,
		`id="control-pull" data-control="0">Pull card 拔卡</button>`, pageJS, pageCSS} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %.80q", want)
		}
	}
	for _, bad := range []string{"http://", "https://", "src=", "href=", "exposed"} {
		if strings.Contains(strings.NewReplacer(pageJS, "", pageCSS, "").Replace(page), bad) {
			t.Errorf("page holds %q: nothing external may load", bad)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, hash(pageJS)) || strings.Contains(csp, "unsafe") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if resp, _ := http.Get(s.URL() + "other"); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("another path: %v, want 404", resp)
	}
}

// TestExposed: bound beyond loopback, the server logs a warning and the
// page says it loudly.
func TestExposed(t *testing.T) {
	var logs bytes.Buffer
	s := listen(t, Options{Addr: ":0", Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if !s.Exposed() {
		t.Fatal("listening on every interface is not exposed")
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "anyone who can reach it") {
		t.Errorf("no warning logged:\n%s", logs.String())
	}
	resp, err := http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `id="exposed" role="alert"`) {
		t.Error("the page does not warn that it is exposed")
	}
	if loop := listen(t, Options{}); loop.Exposed() {
		t.Error("loopback is exposed")
	}
}

func TestClose(t *testing.T) {
	s := listen(t, Options{})
	p := dial(t, s)
	p.batch()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, _, err := p.read()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Text != "kiosk stopped" {
		t.Errorf("page read after Close: %v, want close \"kiosk stopped\"", err)
	}
	if _, ok := <-s.Events(); ok {
		t.Error("events still open")
	}
	if err := s.Present(s.Frame(), nil); err == nil {
		t.Error("Present after Close succeeded")
	}
}

func TestListenErrors(t *testing.T) {
	if _, err := Listen(Options{Size: image.Pt(0, 10)}); err == nil {
		t.Error("no error for an empty panel")
	}
	s := listen(t, Options{})
	addr := strings.TrimSuffix(strings.TrimPrefix(s.URL(), "http://"), "/")
	if _, err := Listen(Options{Addr: addr, Size: image.Pt(10, 10)}); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("second listen on %s: %v, want an error naming it", addr, err)
	}
}

func TestCoalesce(t *testing.T) {
	full := image.Rect(0, 0, 100, 100)
	r := image.Rect
	tests := []struct {
		name string
		in   []image.Rectangle
		want []image.Rectangle
	}{
		{"apart stay apart", []image.Rectangle{r(0, 0, 10, 10), r(50, 50, 60, 60)}, []image.Rectangle{r(0, 0, 10, 10), r(50, 50, 60, 60)}},
		{"clipped", []image.Rectangle{r(-10, 90, 10, 120)}, []image.Rectangle{r(0, 90, 10, 100)}},
		{"empty dropped", []image.Rectangle{r(5, 5, 5, 9), r(200, 200, 210, 210)}, []image.Rectangle{}},
		{"inside dropped", []image.Rectangle{r(0, 0, 10, 10), r(2, 2, 5, 5)}, []image.Rectangle{r(0, 0, 10, 10)}},
		{"covering replaces", []image.Rectangle{r(2, 2, 5, 5), r(6, 6, 8, 8), r(0, 0, 10, 10)}, []image.Rectangle{r(0, 0, 10, 10)}},
		{"most of the frame is the frame", []image.Rectangle{r(0, 0, 100, 60), r(0, 60, 90, 100)}, []image.Rectangle{full}},
		{"many become their bound", func() []image.Rectangle {
			var rs []image.Rectangle
			for i := range 13 {
				rs = append(rs, r(i*2, 0, i*2+1, 1))
			}
			return rs
		}(), []image.Rectangle{r(0, 0, 25, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, coalesce(tt.in, full)); diff != "" {
				t.Errorf("coalesce (-want +got):\n%s", diff)
			}
		})
	}
}
