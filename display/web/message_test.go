package web

import (
	"image"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nhikiosk/nhikiosk/display"
)

func TestParseMessage(t *testing.T) {
	size := image.Pt(800, 480)
	tests := []struct {
		name, in string
		want     message
		err      string
	}{
		{"down", `{"t":"down","x":1.6,"y":2,"p":5}`, message{kind: msgInput, ev: display.Event{Kind: display.PointerDown, X: 2, Y: 2, Pointer: 5}}, ""},
		{"clamped", `{"t":"move","x":1e300,"y":-3}`, message{kind: msgInput, ev: display.Event{Kind: display.PointerMove, X: 799, Y: 0}}, ""},
		{"cancel", `{"t":"cancel","p":1}`, message{kind: msgInput, ev: display.Event{Kind: display.PointerCancel, Pointer: 1}}, ""},
		{"pointer id", `{"t":"up","p":65536}`, message{}, "pointer id"},
		{"negative pointer", `{"t":"up","p":-1}`, message{}, "pointer id"},
		{"enter", `{"t":"key","k":"Enter"}`, message{kind: msgInput, ev: display.Event{Kind: display.KeyPress, Key: display.KeyEnter}}, ""},
		{"unknown key", `{"t":"key","k":"F5"}`, message{}, "unknown key"},
		{"rune", `{"t":"text","s":"@"}`, message{kind: msgInput, ev: display.Event{Kind: display.KeyPress, Rune: '@'}}, ""},
		{"text", `{"t":"text","s":".com"}`, message{kind: msgInput, ev: display.Event{Kind: display.KeyPress, Text: ".com"}}, ""},
		{"control char", `{"t":"text","s":"a\n"}`, message{}, "holds"},
		{"empty text", `{"t":"text","s":""}`, message{}, "1 to 16"},
		{"long text", `{"t":"text","s":"` + strings.Repeat("x", 17) + `"}`, message{}, "1 to 16"},
		{"control", `{"t":"control","n":2}`, message{kind: msgControl, n: 2}, ""},
		{"control range", `{"t":"control","n":64}`, message{}, "out of range"},
		{"drawn", `{"t":"drawn","n":7}`, message{kind: msgDrawn, n: 7}, ""},
		{"drawn zero", `{"t":"drawn","n":0}`, message{}, "out of range"},
		{"drawn too big", `{"t":"drawn","n":4294967296}`, message{}, "out of range"},
		{"unknown type", `{"t":"eval"}`, message{}, "unknown message type"},
		{"not json", `{"t":`, message{}, "message"},
		{"number overflow", `{"t":"down","p":1e30}`, message{}, "message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMessage([]byte(tt.in), size)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseMessage(%s) error = %v, want one with %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseMessage(%s) = %+v, %v, want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

// FuzzParseMessage: whatever a page sends, an accepted message is within
// the panel and the limits.
func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{`{"t":"down","x":1,"y":2,"p":0}`, `{"t":"text","s":"測"}`, `{"t":"key","k":"Tab"}`,
		`{"t":"control","n":1}`, `{"t":"drawn","n":3}`, `{"t":"move","x":-1e9,"y":NaN}`} {
		f.Add([]byte(s))
	}
	size := image.Pt(1280, 800)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMessage(b, size)
		if err != nil {
			return
		}
		switch m.kind {
		case msgInput:
			ev := m.ev
			if ev.X < 0 || ev.X >= size.X || ev.Y < 0 || ev.Y >= size.Y || ev.Pointer < 0 || ev.Pointer >= maxPointer {
				t.Fatalf("event out of bounds: %+v", ev)
			}
			if ev.Text != "" && (!utf8.ValidString(ev.Text) || utf8.RuneCountInString(ev.Text) > maxTextLen) {
				t.Fatalf("text %q", ev.Text)
			}
		case msgControl:
			if m.n < 0 || m.n >= maxControls {
				t.Fatalf("control %d", m.n)
			}
		case msgDrawn:
			if m.n < 1 {
				t.Fatalf("batch %d", m.n)
			}
		default:
			t.Fatalf("kind %d", m.kind)
		}
	})
}
