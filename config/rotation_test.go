package config

import (
	"strings"
	"testing"
)

// TestDisplayRotation: display.rotation takes the four quarter turns, on
// the fbdev backend only, and -set sets it.
func TestDisplayRotation(t *testing.T) {
	tests := []struct {
		backend  string
		rotation int
		problem  string // "" when valid
	}{
		{DisplayFBDev, 0, ""},
		{DisplayFBDev, 90, ""},
		{DisplayFBDev, 180, ""},
		{DisplayFBDev, 270, ""},
		{DisplayHeadless, 0, ""},
		{DisplayFBDev, 45, "display.rotation: must be 0, 90, 180 or 270"},
		{DisplayFBDev, -90, "display.rotation: must be 0, 90, 180 or 270"},
		{DisplayFBDev, 360, "display.rotation: must be 0, 90, 180 or 270"},
		{DisplayGLFW, 90, "display.rotation: only the fbdev backend turns the frame"},
	}
	for _, tt := range tests {
		c := Demo()
		c.Display.Backend, c.Display.Rotation = tt.backend, tt.rotation
		got := c.Validate().Error()
		if tt.problem == "" && len(c.Validate()) != 0 || tt.problem != "" && !strings.Contains(got, tt.problem) {
			t.Errorf("Validate(%s, rotation %d) = %q, want %q", tt.backend, tt.rotation, got, tt.problem)
		}
	}
	c := Default()
	if c.Display.Rotation != 0 {
		t.Errorf("default rotation %d, want 0", c.Display.Rotation)
	}
	if err := c.Set("display.rotation", "270"); err != nil || c.Display.Rotation != 270 {
		t.Errorf("Set(display.rotation, 270) = %v, rotation %d", err, c.Display.Rotation)
	}
}
