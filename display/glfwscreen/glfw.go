//go:build cgo && !noglfw

package glfwscreen

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/go-gl/glfw/v3.3/glfw"

	"github.com/nhikiosk/nhikiosk/display"
)

func init() {
	// GLFW (and the window systems under it) must run on the main OS
	// thread; init runs on it, so pin the main goroutine there. Main then
	// serves GLFW calls from it.
	runtime.LockOSThread()
}

var (
	calls       = make(chan func(), 64)
	mainRunning atomic.Bool
	glfwReady   atomic.Bool
)

// Main runs app on another goroutine and serves GLFW from this one, which
// must be the main goroutine (call it from main or TestMain). It returns
// when app returns.
func Main(app func()) {
	mainRunning.Store(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		app()
	}()
	for {
		select {
		case f := <-calls:
			f()
			continue
		case <-done:
			if glfwReady.Load() {
				glfw.Terminate()
			}
			return
		default:
		}
		if glfwReady.Load() {
			// Wakes for window events, for PostEmptyEvent from do, or
			// after 50 ms to look at done.
			glfw.WaitEventsTimeout(0.05)
			continue
		}
		select {
		case f := <-calls:
			f()
		case <-done:
			return
		}
	}
}

// initGLFW initialises GLFW. go-gl's Init logs a platform error (no X
// server) and returns nil, leaving GLFW uninitialised, and later calls
// panic; so the first call after it is made under recover.
func initGLFW() (err error) {
	if err := glfw.Init(); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	glfw.DefaultWindowHints()
	return nil
}

// do runs f on the main thread and waits for it.
func do(f func()) {
	ran := make(chan struct{})
	calls <- func() { f(); close(ran) }
	if glfwReady.Load() {
		glfw.PostEmptyEvent()
	}
	<-ran
}

// Screen is a GLFW window showing frames. Present and Events may be used
// from any goroutine; the GLFW calls happen on the main thread.
type Screen struct {
	win    *glfw.Window
	size   image.Point
	events chan display.Event
	mu     sync.Mutex
	closed bool
	down   bool
}

// Open creates the window. Main must be running.
func Open(o Options) (display.Screen, error) {
	if !mainRunning.Load() {
		return nil, errors.New("glfwscreen: open: Main is not running (call glfwscreen.Main from main)")
	}
	var s *Screen
	var err error
	do(func() { s, err = open(o) })
	if err != nil {
		return nil, err
	}
	return s, nil
}

func open(o Options) (*Screen, error) {
	if !glfwReady.Load() {
		if err := initGLFW(); err != nil {
			return nil, fmt.Errorf("glfwscreen: init GLFW (is there a display? DISPLAY or WAYLAND_DISPLAY): %w", err)
		}
		glfwReady.Store(true)
	}
	glfw.WindowHint(glfw.Resizable, glfw.False)
	glfw.WindowHint(glfw.ContextVersionMajor, 2)
	glfw.WindowHint(glfw.ContextVersionMinor, 1)
	var mon *glfw.Monitor
	w, h := o.Width, o.Height
	if o.Fullscreen {
		glfw.WindowHint(glfw.Decorated, glfw.False)
		mon = glfw.GetPrimaryMonitor()
		if mon == nil {
			return nil, errors.New("glfwscreen: no monitor for fullscreen")
		}
		// A kiosk panel runs at its native mode; the frame follows it.
		m := mon.GetVideoMode()
		w, h = m.Width, m.Height
	}
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("glfwscreen: window size %dx%d", w, h)
	}
	win, err := glfw.CreateWindow(w, h, o.Title, mon, nil)
	if err != nil {
		return nil, fmt.Errorf("glfwscreen: create window: %w", err)
	}
	if mon == nil {
		win.SetPos(o.Pos.X, o.Pos.Y)
	}
	win.MakeContextCurrent()
	glfw.SwapInterval(1)
	if err := glInit(w, h); err != nil {
		win.Destroy()
		return nil, fmt.Errorf("glfwscreen: %w", err)
	}
	s := &Screen{win: win, size: image.Pt(w, h), events: make(chan display.Event, 256)}
	s.callbacks()
	return s, nil
}

// callbacks turn GLFW input into display events. They run on the main
// thread inside WaitEventsTimeout.
func (s *Screen) callbacks() {
	s.win.SetMouseButtonCallback(func(w *glfw.Window, b glfw.MouseButton, a glfw.Action, _ glfw.ModifierKey) {
		if b != glfw.MouseButtonLeft {
			return
		}
		x, y := s.pos()
		kind := display.PointerUp
		if a == glfw.Press {
			kind = display.PointerDown
		}
		s.down = a == glfw.Press
		s.send(display.Event{Kind: kind, X: x, Y: y})
	})
	s.win.SetCursorPosCallback(func(w *glfw.Window, _, _ float64) {
		if s.down {
			x, y := s.pos()
			s.send(display.Event{Kind: display.PointerMove, X: x, Y: y})
		}
	})
	s.win.SetCharCallback(func(w *glfw.Window, r rune) {
		s.send(display.Event{Kind: display.KeyPress, Rune: r})
	})
	s.win.SetKeyCallback(func(w *glfw.Window, k glfw.Key, _ int, a glfw.Action, _ glfw.ModifierKey) {
		if a == glfw.Release {
			return
		}
		keys := map[glfw.Key]display.Key{glfw.KeyBackspace: display.KeyBackspace, glfw.KeyEnter: display.KeyEnter,
			glfw.KeyKPEnter: display.KeyEnter, glfw.KeyTab: display.KeyTab, glfw.KeyEscape: display.KeyEscape}
		if dk, ok := keys[k]; ok {
			s.send(display.Event{Kind: display.KeyPress, Key: dk})
		}
	})
	s.win.SetCloseCallback(func(w *glfw.Window) { s.closeEvents() })
}

// pos returns the cursor in frame pixels (the window may be scaled).
func (s *Screen) pos() (int, int) {
	cx, cy := s.win.GetCursorPos()
	ww, wh := s.win.GetSize()
	return int(cx * float64(s.size.X) / float64(max(ww, 1))), int(cy * float64(s.size.Y) / float64(max(wh, 1)))
}

func (s *Screen) send(ev display.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.events <- ev:
	default:
	}
}

func (s *Screen) closeEvents() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.events)
	}
}

// Size returns the frame size.
func (s *Screen) Size() image.Point { return s.size }

// Events returns pointer and key events in frame pixels; it is closed when
// the window is closed.
func (s *Screen) Events() <-chan display.Event { return s.events }

// Present uploads the dirty parts of frame into the texture and redraws
// the window.
func (s *Screen) Present(frame *image.RGBA, dirty []image.Rectangle) error {
	if frame.Rect.Size() != s.size {
		return fmt.Errorf("glfwscreen: present: frame %v on a %v window", frame.Rect.Size(), s.size)
	}
	var err error
	do(func() {
		if s.win == nil {
			err = errors.New("glfwscreen: present: window closed")
			return
		}
		s.win.MakeContextCurrent()
		if len(dirty) == 0 {
			dirty = []image.Rectangle{frame.Rect}
		}
		for _, r := range dirty {
			glUpload(frame, r)
		}
		fw, fh := s.win.GetFramebufferSize()
		if err = glDraw(fw, fh); err == nil {
			s.win.SwapBuffers()
		}
	})
	return err
}

// Close destroys the window.
func (s *Screen) Close() error {
	s.closeEvents()
	do(func() {
		if s.win != nil {
			s.win.Destroy()
			s.win = nil
		}
	})
	return nil
}

// Built reports whether this build has GLFW windows.
const Built = true
