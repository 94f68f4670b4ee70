package instance

import (
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

// relayArg, as this test binary's first argument, makes it relay its
// stdin and stdout to the host address in its second (see relayTo).
const relayArg = "nhikiosk-vm-relay"

// TestMain runs the tests, or, started by QEMU for a guest's connection
// (guestfwd=…-cmd:), relays that connection to a host address: user
// networking with restrict=on lets the guest reach the host only this way.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == relayArg {
		os.Exit(relay(os.Args[2]))
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

// relayTo is a guestfwd rule (vmOptions.GuestFwd) that relays the guest's
// connections to guest:port to the host's addr through this test binary
// (libslirp splits the command line like a shell and runs it per
// connection). Each rule names its own address, so a VM may have several.
func relayTo(t *testing.T, guest string, port int, addr string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return "tcp:" + net.JoinHostPort(guest, strconv.Itoa(port)) + "-cmd:" + exe + " " + relayArg + " " + addr
}
