package instance

import (
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

// relayEnv names the host address a QEMU guestfwd command relays to:
// with it set, this test binary is that command (see relayCommand).
const relayEnv = "NHIKIOSK_VM_RELAY"

// TestMain runs the tests, or, started by QEMU for a guest's connection
// (guestfwd=…-cmd:), relays that connection to the host address in
// relayEnv: user networking with restrict=on lets the guest reach the
// host only this way.
func TestMain(m *testing.M) {
	if addr := os.Getenv(relayEnv); addr != "" {
		os.Exit(relay(addr))
	}
	os.Exit(m.Run())
}

// relay copies stdin (the guest's connection, as QEMU hands it over) to a
// TCP connection to addr and back, until either side closes. Nothing else
// may be written to stdout or stderr: they are the guest's connection.
func relay(addr string) int {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 1
	}
	defer c.Close()
	go func() {
		io.Copy(c, os.Stdin)
		c.(*net.TCPConn).CloseWrite()
	}()
	io.Copy(os.Stdout, c)
	return 0
}

// relayCommand is the guestfwd rule that relays the guest's connections
// to guest:port to the host's addr, with the environment QEMU must run
// with for it.
func relayCommand(t *testing.T, guest string, port int, addr string) (rule, env string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return "guestfwd=tcp:" + net.JoinHostPort(guest, strconv.Itoa(port)) + "-cmd:" + exe, relayEnv + "=" + addr
}
