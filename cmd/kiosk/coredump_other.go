//go:build !linux

package main

// noCoreDumps is Linux-only; elsewhere the operating system's own
// settings apply.
func noCoreDumps() error { return nil }
