// Package instance holds the gokrazy instances that build the kiosk's
// image: rpi/ (Raspberry Pi 4 and 5, arm64, the appliance) and qemu/ (the
// same on amd64, for QEMU). Each has the config.json gok reads and a
// builddir/go.mod whose relative replace builds this repository's kiosk.
//
// The package itself has no code: its tests check the instances (every
// package builds the way gok builds it, flags parse, referenced files
// exist, no update password is committed) and boot the qemu image where
// gok is installed.
package instance
