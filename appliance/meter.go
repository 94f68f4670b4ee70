package appliance

import (
	"github.com/nhikiosk/nhikiosk/display"
)

// strengthMeter is the display's strength meter reading the machine's own
// bytes of field f (graded by rules, like the upstream), with the wizard's
// words.
func (v *view) strengthMeter(f FieldID) *display.StrengthMeter {
	m := v.m
	return &display.StrengthMeter{
		Base: display.Base{Name: "strength"},
		Value: func() []byte {
			if m.sess == nil {
				return nil
			}
			return m.sess.p.fields[f]
		},
		Keys: []string{"password.none", "password.weak", "password.medium", "password.medium_strong", "password.strong"},
	}
}
