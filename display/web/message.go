package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/nhikiosk/nhikiosk/display"
)

// msgKind says what a page's message asks for.
type msgKind int

const (
	msgInput   msgKind = iota + 1 // an input event for the kiosk
	msgControl                    // a control under the panel was pressed
	msgDrawn                      // the page drew a frame batch
)

// message is a page's message, checked.
type message struct {
	kind msgKind
	ev   display.Event
	n    int // msgControl: the control's index; msgDrawn: the batch number
}

// wire is a page's message as sent, one JSON object per WebSocket text
// message:
//
//	{"t":"down"|"move"|"up"|"cancel", "x":X, "y":Y, "p":POINTER}  frame pixels
//	{"t":"key", "k":"Backspace"|"Enter"|"Tab"|"Escape"}
//	{"t":"text", "s":"a"}                                          typed characters
//	{"t":"control", "n":INDEX}
//	{"t":"drawn", "n":BATCH}
type wire struct {
	T string  `json:"t"`
	X float64 `json:"x"`
	Y float64 `json:"y"`
	P int64   `json:"p"`
	K string  `json:"k"`
	S string  `json:"s"`
	N int64   `json:"n"`
}

var pointerKinds = map[string]display.EventKind{
	"down": display.PointerDown, "move": display.PointerMove, "up": display.PointerUp, "cancel": display.PointerCancel,
}

var keys = map[string]display.Key{
	"Backspace": display.KeyBackspace, "Enter": display.KeyEnter, "Tab": display.KeyTab, "Escape": display.KeyEscape,
}

// Bounds of what a page may send.
const (
	maxPointer  = 1 << 16 // pointer ids (the page sends 0 for the mouse, the browser's id for touches)
	maxTextLen  = 16      // characters in one text message
	maxControls = 64
)

// parseMessage checks one message from a page for a panel of size. A
// pointer outside the panel (a drag that left it) is clamped to its edge.
func parseMessage(b []byte, size image.Point) (message, error) {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return message{}, fmt.Errorf("web: message: %w", err)
	}
	if k, ok := pointerKinds[w.T]; ok {
		if w.P < 0 || w.P >= maxPointer {
			return message{}, fmt.Errorf("web: pointer id %d out of range", w.P)
		}
		ev := display.Event{Kind: k, X: clamp(w.X, size.X), Y: clamp(w.Y, size.Y), Pointer: int(w.P)}
		return message{kind: msgInput, ev: ev}, nil
	}
	switch w.T {
	case "key":
		k, ok := keys[w.K]
		if !ok {
			return message{}, fmt.Errorf("web: unknown key %q", w.K)
		}
		return message{kind: msgInput, ev: display.Event{Kind: display.KeyPress, Key: k}}, nil
	case "text":
		return parseText(w.S)
	case "control":
		if w.N < 0 || w.N >= maxControls {
			return message{}, fmt.Errorf("web: control %d out of range", w.N)
		}
		return message{kind: msgControl, n: int(w.N)}, nil
	case "drawn":
		if w.N < 1 || w.N > math.MaxUint32 {
			return message{}, fmt.Errorf("web: batch %d out of range", w.N)
		}
		return message{kind: msgDrawn, n: int(w.N)}, nil
	}
	return message{}, fmt.Errorf("web: unknown message type %q", w.T)
}

// parseText accepts typed characters: valid UTF-8, printable, a few at a
// time. One character is a Rune event, more a Text event.
func parseText(s string) (message, error) {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n == 0 || n > maxTextLen {
		return message{}, errors.New("web: text must be 1 to 16 characters of UTF-8")
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return message{}, fmt.Errorf("web: text holds %U", r)
		}
	}
	ev := display.Event{Kind: display.KeyPress, Text: s}
	if n == 1 {
		r, _ := utf8.DecodeRuneInString(s)
		ev = display.Event{Kind: display.KeyPress, Rune: r}
	}
	return message{kind: msgInput, ev: ev}, nil
}

// clamp rounds v into [0, n-1].
func clamp(v float64, n int) int {
	switch {
	case math.IsNaN(v) || v < 0:
		return 0
	case v > float64(n-1):
		return n - 1
	}
	return int(math.Round(v))
}
