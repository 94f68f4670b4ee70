//go:build !unix

package readertest

// LockVPCD is a no-op where flock does not exist; vpcd tests there must
// not run in parallel packages.
func LockVPCD(string) (func(), error) { return func() {}, nil }
