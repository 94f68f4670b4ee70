package display

import "image"

// EventKind says what happened.
type EventKind int

// Event kinds. Pointer events come from a mouse or a touch contact; a
// multi-touch screen reports each contact with its own Pointer id.
const (
	PointerDown EventKind = iota + 1
	PointerMove
	PointerUp
	// PointerCancel tells a widget that pressed state it holds is void
	// (the gesture became a scroll).
	PointerCancel
	// KeyPress is a typed character (Rune) or an editing key (Key).
	KeyPress
)

// Key is an editing key from an on-screen or physical keyboard.
type Key int

// Editing keys.
const (
	KeyNone Key = iota
	KeyBackspace
	KeyEnter
	KeyTab
	KeyEscape
)

// Keys of the tactile keypad (issue 20, EZ Access): they move a focus
// through the screen's widgets in reading order instead of editing, from
// GPIO buttons (panel), a USB keypad (evdev) or a desktop's arrow keys.
const (
	KeyUp Key = iota + 16
	KeyDown
	KeySelect
	KeyBack
	KeyHelp
	KeyVolumeUp
	KeyVolumeDown
)

// Tactile reports whether k is a key of the tactile keypad.
func (k Key) Tactile() bool { return k >= KeyUp && k <= KeyVolumeDown }

// Event is one input event in frame pixel coordinates.
type Event struct {
	Kind    EventKind
	X, Y    int
	Pointer int  // touch contact id; 0 for the mouse
	Rune    rune // KeyPress: the character, or 0 with Key set
	Key     Key  // KeyPress: the editing key
	// Text is a KeyPress of a whole string (the keyboard's ".com.tw").
	Text string
	// Hold is a tactile key held down (2 s): the help key held starts
	// audio mode.
	Hold bool
}

// Pos returns the event's position.
func (e Event) Pos() image.Point { return image.Pt(e.X, e.Y) }

// Screen is a backend: it shows frames and delivers input. The engine
// draws; a Screen never interprets a frame.
//
// Present copies the parts of frame listed in dirty (all of it when dirty
// is empty) to the display and returns once they are copied; frame may be
// changed afterwards. Events delivers input in the frame's pixel
// coordinates; the channel is closed when the screen goes away (window
// closed). Present and Events may be used from different goroutines;
// Close ends both.
type Screen interface {
	Size() image.Point
	Present(frame *image.RGBA, dirty []image.Rectangle) error
	Events() <-chan Event
	Close() error
}
