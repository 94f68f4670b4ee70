package ccid

import (
	"strings"
	"testing"
)

// A uevent as the kernel sends it when a reader is plugged in (recorded
// from QEMU's usb-ccid on a Linux 6.x guest, trimmed).
const addReader = "add@/devices/pci0000:00/0000:00:04.0/usb1/1-1\x00ACTION=add\x00DEVPATH=/devices/pci0000:00/0000:00:04.0/usb1/1-1\x00SUBSYSTEM=usb\x00MAJOR=189\x00MINOR=1\x00DEVNAME=bus/usb/001/002\x00DEVTYPE=usb_device\x00PRODUCT=8e6/4433/101\x00TYPE=0/0/0\x00BUSNUM=001\x00DEVNUM=002\x00SEQNUM=1502\x00"

func TestParseUevent(t *testing.T) {
	u, err := ParseUevent([]byte(addReader))
	if err != nil {
		t.Fatal(err)
	}
	if u.Action != "add" || u.DevPath != "/devices/pci0000:00/0000:00:04.0/usb1/1-1" || u.Subsystem != "usb" || u.DevType != "usb_device" || u.Env["DEVNAME"] != "bus/usb/001/002" {
		t.Errorf("ParseUevent = %+v", u)
	}
	for _, bad := range []string{
		"libudev\x00\xfe\xed\xca\xfe",
		"add@/devices/x\x00ACTION=remove\x00DEVPATH=/devices/x\x00",
		"add@/devices/x\x00ACTION=add\x00DEVPATH=/devices/x\x00NOEQUALS\x00",
		"",
	} {
		if _, err := ParseUevent([]byte(bad)); err == nil {
			t.Errorf("ParseUevent(%q) accepted", bad)
		}
	}
}

func FuzzParseUevent(f *testing.F) {
	f.Add([]byte(addReader))
	f.Add([]byte("remove@/devices/x\x00ACTION=remove\x00DEVPATH=/devices/x\x00"))
	f.Fuzz(func(t *testing.T, p []byte) {
		u, err := ParseUevent(p)
		if err == nil && (u.Action == "" || !strings.HasPrefix(u.DevPath, "/")) {
			t.Fatalf("accepted %q as %+v", p, u)
		}
	})
}
