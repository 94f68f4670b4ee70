//go:build unix

package readertest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// LockVPCD takes a machine-wide lock on the vpcd reader at addr until
// unlock is called, so tests in different packages (go test runs packages
// in parallel processes) never put cards into the same reader at once.
// It blocks while another process holds the lock.
func LockVPCD(addr string) (unlock func(), err error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("lock vpcd reader: %w", err)
	}
	path := filepath.Join(os.TempDir(), "nhikiosk-vpcd-"+port+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock vpcd reader: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock vpcd reader: %w", err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}
