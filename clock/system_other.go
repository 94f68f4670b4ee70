//go:build !linux

package clock

import (
	"errors"
	"time"
)

// Kernel is the operating system's clock; off Linux the kiosk never sets
// it (Set fails), it only reads it.
func Kernel() System { return kernel{} }

type kernel struct{}

func (kernel) Now() time.Time { return time.Now() }

func (kernel) Set(time.Time) error { return errors.ErrUnsupported }
