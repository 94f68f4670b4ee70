package display

import (
	"fmt"

	"github.com/nhikiosk/nhikiosk/config"
)

// Configured opens the font and picks the theme a kiosk's display
// configuration names. A missing font is an error wrapping ErrNoFont that
// says which Debian package to install.
func Configured(d config.Display) (*Font, Theme, error) {
	th, err := ThemeByName(d.Theme)
	if err != nil {
		return nil, Theme{}, fmt.Errorf("display: %w", err)
	}
	f, err := OpenFont(d.FontFile, d.FontIndex)
	if err != nil {
		return nil, Theme{}, fmt.Errorf("display: %w", err)
	}
	return f, th, nil
}
