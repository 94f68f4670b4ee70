//go:build !linux

package main

import (
	"fmt"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// rebootMachine is Linux-only.
func rebootMachine() error {
	return fmt.Errorf("reboot: only on Linux: %w", fleet.ErrUnsupported)
}
