package readertest

import (
	"net"
	"syscall"
)

// quickAck turns on TCP_QUICKACK, which Linux turns off again by itself
// after a while, so it is set before every read. vpcd (vsmartcard 3.3)
// sends a message's 2-byte length and its payload in two writes without
// TCP_NODELAY: unless the length is acknowledged at once, Nagle's
// algorithm holds the payload back until our delayed ACK (~40 ms), on
// every APDU.
func quickAck(conn net.Conn) {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
