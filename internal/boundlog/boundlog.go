// Package boundlog bounds what one log line can carry: every value is cut
// to a maximum length, byte slices are logged as their length, and a line
// keeps at most a fixed number of attributes. A daemon that logs what
// strangers send it (fleetd's broker, its web login) wraps its handler with
// New so that no message, however large, becomes a large log line.
//
// It does not decide what may be logged (personal data never is); it only
// bounds the size.
package boundlog

import (
	"context"
	"fmt"
	"log/slog"
	"unicode/utf8"
)

// MaxAttrs bounds the attributes kept on one line.
const MaxAttrs = 32

type handler struct {
	h   slog.Handler
	max int
}

// New wraps h so that the message and every value are at most max bytes.
func New(h slog.Handler, max int) slog.Handler {
	if max < 16 {
		max = 16
	}
	return handler{h: h, max: max}
}

func (b handler) Enabled(ctx context.Context, l slog.Level) bool { return b.h.Enabled(ctx, l) }

func (b handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Cut(r.Message, b.max), r.PC)
	n := 0
	r.Attrs(func(a slog.Attr) bool {
		if n++; n > MaxAttrs {
			out.AddAttrs(slog.Int("attrs_dropped", r.NumAttrs()-MaxAttrs))
			return false
		}
		out.AddAttrs(b.attr(a, 0))
		return true
	})
	return b.h.Handle(ctx, out)
}

func (b handler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) > MaxAttrs {
		as = as[:MaxAttrs]
	}
	bounded := make([]slog.Attr, len(as))
	for i, a := range as {
		bounded[i] = b.attr(a, 0)
	}
	return handler{h: b.h.WithAttrs(bounded), max: b.max}
}

func (b handler) WithGroup(name string) slog.Handler {
	return handler{h: b.h.WithGroup(Cut(name, b.max)), max: b.max}
}

func (b handler) attr(a slog.Attr, depth int) slog.Attr {
	a.Key = Cut(a.Key, b.max)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(Cut(v.String(), b.max))
	case slog.KindGroup:
		g := v.Group()
		if depth > 4 || len(g) > MaxAttrs {
			a.Value = slog.StringValue(fmt.Sprintf("(group of %d)", len(g)))
			break
		}
		kept := make([]slog.Attr, len(g))
		for i, ga := range g {
			kept[i] = b.attr(ga, depth+1)
		}
		a.Value = slog.GroupValue(kept...)
	case slog.KindAny:
		a.Value = slog.StringValue(b.any(v.Any()))
	}
	return a
}

// any formats v, never formatting a byte slice's contents.
func (b handler) any(v any) string {
	switch x := v.(type) {
	case []byte:
		return fmt.Sprintf("(%d bytes)", len(x))
	case error:
		return Cut(x.Error(), b.max)
	case fmt.Stringer:
		return Cut(x.String(), b.max)
	}
	return Cut(fmt.Sprint(v), b.max)
}

// Cut returns s cut to at most max bytes on a character boundary, marked
// with how much was cut.
func Cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max - 16
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return fmt.Sprintf("%s…(+%d bytes)", s[:i], len(s)-i)
}
