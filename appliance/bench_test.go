package appliance

import (
	"image"
	"testing"
)

// BenchmarkTypeAndRedraw is one key on the on-screen keyboard: the field
// changes, the machine checks it, the view patches and the frame is
// redrawn, as each keystroke costs on the kiosk.
func BenchmarkTypeAndRedraw(b *testing.B) {
	d := newScreenDriver(b, image.Pt(800, 480), LangZhTW)
	d.fast = true
	d.register(ScreenContact)
	d.UI.SetFocus(d.k.v.fields[FieldEmail])
	v := []byte("test.one@example.com")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.k.Dispatch(SetField{Field: FieldEmail, Value: append([]byte(nil), v[:1+i%len(v)]...)})
		d.UI.Render()
	}
}

// BenchmarkNewPage is going to the next step: a new page is built, laid
// out and drawn whole.
func BenchmarkNewPage(b *testing.B) {
	d := newScreenDriver(b, image.Pt(800, 480), LangZhTW)
	d.fast = true
	d.register(ScreenReview)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			d.k.Dispatch(Tap{ID: IDEditContact})
		} else {
			d.k.Dispatch(Tap{ID: IDNext})
		}
		d.UI.Render()
	}
}
