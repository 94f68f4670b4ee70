package display

// FieldBytes exposes a field's backing array (to its capacity) so tests can
// check that Wipe zeroes it.
func FieldBytes(f *Field) []byte { return f.value[:cap(f.value)] }

// WrapForTest exposes wrap.
func WrapForTest(f *Font, s string, px, w int) []string { return wrap(f, s, px, w) }
