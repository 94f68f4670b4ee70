package appliance

import (
	"testing"
)

// FuzzTyping hands arbitrary bytes to every field of the registration, as
// a broken or hostile keyboard might: the machine never panics, keeps only
// what the field's keyboard can type, never more than its maximum, and
// the wipe zeroes it all.
func FuzzTyping(f *testing.F) {
	for _, s := range []string{"F1234567", "測試", "\x00\xff", "Abc12!xy", "a@b.c", "0912345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := newDriver(t)
		d.registerTo(ScreenHousehold)
		var owned [][]byte
		for _, screen := range []ScreenID{ScreenHousehold, ScreenAddress, ScreenPassword, ScreenContact} {
			d.m.screen = screen
			for _, fid := range registerScreens[screen].fields {
				v := []byte(s)
				d.do(SetField{Field: fid, Value: v}, Key{Text: s})
				got := d.m.sess.p.fields[fid]
				spec := fieldSpecs[fid]
				if len(got) > spec.max {
					t.Fatalf("%s holds %d bytes, max %d", fid, len(got), spec.max)
				}
				for _, c := range got {
					if !spec.keyboard.accepts(c) {
						t.Fatalf("%s holds %q, which its keyboard cannot type", fid, c)
					}
				}
				owned = append(owned, got)
				checkField(d.m.sess.p, fid)
			}
		}
		d.do(CardRemoved{})
		for _, b := range owned {
			for _, c := range b[:cap(b)] {
				if c != 0 {
					t.Fatalf("a field's buffer was not zeroed")
				}
			}
		}
	})
}
