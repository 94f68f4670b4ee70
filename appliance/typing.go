package appliance

import (
	"slices"
	"strings"

	"github.com/nhikiosk/nhikiosk/rules"
)

// Typing is the machine's on every screen: a screen's fields (its
// screenSpec) take keys and edits, and are checked as the person types.

// focusTap focuses the field a tap on "field.<FieldID>" names, if the
// screen has it; it reports whether it did.
func (m *Machine) focusTap(id string) bool {
	f, ok := strings.CutPrefix(id, "field.")
	if !ok || m.sess == nil || !slices.Contains(m.spec().fields, FieldID(f)) {
		return false
	}
	m.sess.focus = FieldID(f)
	return true
}

// key types into the focused field and checks it as the person types.
func (m *Machine) key(text string) {
	s := m.sess
	if s == nil || s.focus == "" {
		return
	}
	spec := fieldSpecs[s.focus]
	b := s.p.fields[s.focus]
	if cap(b) < spec.max {
		// Room for the longest value, so appending never reallocates and
		// leaves an unzeroed copy behind.
		nb := append(make([]byte, 0, spec.max), b...)
		zero(b)
		b = nb
	}
	switch text {
	case KeyBackspace:
		if len(b) > 0 {
			b[len(b)-1] = 0
			b = b[:len(b)-1]
		}
	case KeyClear:
		zero(b)
		b = b[:0]
	default:
		for i := range len(text) {
			c := spec.keyboard.normalize(text[i])
			if len(b) < spec.max && spec.keyboard.accepts(c) {
				b = append(b, c)
			}
		}
	}
	s.p.fields[s.focus] = b
	m.checkTyped()
}

// setField takes over v as f's value, keeping only what f's keyboard can
// type and its maximum length, and zeroing the value it replaces.
func (m *Machine) setField(f FieldID, v []byte) {
	s := m.sess
	if s == nil || !slices.Contains(m.spec().fields, f) {
		zero(v)
		return
	}
	spec := fieldSpecs[f]
	n := 0
	for _, c := range v {
		c = spec.keyboard.normalize(c)
		if n < spec.max && spec.keyboard.accepts(c) {
			v[n] = c
			n++
		}
	}
	zero(v[n:])
	zero(s.p.fields[f])
	s.p.fields[f] = v[:n]
	s.focus = f
	m.checkTyped()
}

// checkTyped re-checks the fields of the screen that hold something, so an
// error shows as soon as it is made and goes as soon as it is fixed.
func (m *Machine) checkTyped() {
	s := m.sess
	for _, f := range m.spec().fields {
		if s.p.value(f) == "" {
			delete(s.errs, f)
			continue
		}
		// "Required" waits for "next": it is not a mistake while typing.
		if c := checkField(s.p, f); c != "" && c != rules.CodeRequired {
			s.errs[f] = c
		} else {
			delete(s.errs, f)
		}
	}
}
