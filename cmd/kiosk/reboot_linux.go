package main

import (
	"fmt"
	"syscall"
)

// rebootMachine flushes the filesystems and restarts the machine.
func rebootMachine() error {
	syscall.Sync()
	if err := syscall.Reboot(syscall.LINUX_REBOOT_CMD_RESTART); err != nil {
		return fmt.Errorf("reboot(2): %w", err)
	}
	return nil
}
