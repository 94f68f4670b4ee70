package instance

import (
	"bufio"
	"fmt"
	"image"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// vmOptions say how vmImage.boot runs QEMU. The zero value is a kiosk as
// it stands in a branch office: QEMU's usb-tablet for touch, the usb-ccid
// reader with our virtual card (vmReader), and user networking with
// restrict=off, on which the guest reaches the host's loopback at
// 10.0.2.2 (guestHost). gokrazy's web interface (port 80) is always
// forwarded to the host, for the kiosk's log.
type vmOptions struct {
	// RTC is the time QEMU's clock starts at (-rtc base=), e.g.
	// "1970-01-01T00:00:00"; empty: now.
	RTC string
	// Restrict cuts the guest off from the host and the world
	// (restrict=on): only the forwards get through.
	Restrict bool
	// GuestFwd are guestfwd rules of the user network (see relayTo).
	GuestFwd []string
	// HostFwd are further guest TCP ports to forward from the host's
	// loopback (22 for breakglass); vm.fwd says where each went.
	HostFwd []int
	// NoTablet and NoReader leave out the kiosk's touch device or its card
	// reader (the kiosk then goes out of service after its grace).
	NoTablet, NoReader bool
	// Devices are extra -device arguments (a sound card, a second NIC…),
	// on the same machine as the xHCI controller "xhci".
	Devices []string
	// Args are further QEMU arguments (-audiodev, -netdev…).
	Args []string
	// MemoryMB is the guest's memory (1024 if 0).
	MemoryMB int
}

// vm is one boot of an image in QEMU (TCG) and what the test holds of it.
// QEMU is killed when the test ends.
type vm struct {
	q      *qmp
	dir    string         // this boot's files: serial log, QMP socket, screendumps
	serial string         // the serial console's log
	web    string         // gokrazy's web interface, forwarded to the host
	fwd    map[int]string // guest port → host address, for HostFwd
	log    *guestLog      // the kiosk's log
	reader *vmReader      // nil with NoReader
	stop   func()
}

// boot starts QEMU on the image: OVMF, the image as a virtio disk, -vga
// std (the kiosk's /dev/fb0), an xHCI controller with the devices o asks
// for, QMP, and the serial console in a file. It returns once QMP answers
// and the card's chardev is connected; the guest is still booting.
func (img *vmImage) boot(t *testing.T, o vmOptions) *vm {
	t.Helper()
	dir, err := os.MkdirTemp(img.dir, "qemu-")
	if err != nil {
		t.Fatal(err)
	}
	v := &vm{dir: dir, serial: filepath.Join(dir, "serial.log"), fwd: map[int]string{}}
	v.web = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	nic := "user,model=virtio-net-pci,restrict=" + map[bool]string{false: "off", true: "on"}[o.Restrict] +
		",hostfwd=tcp:" + v.web + "-:80"
	for _, p := range o.HostFwd {
		v.fwd[p] = fmt.Sprintf("127.0.0.1:%d", freePort(t))
		nic += fmt.Sprintf(",hostfwd=tcp:%s-:%d", v.fwd[p], p)
	}
	for _, r := range o.GuestFwd {
		nic += ",guestfwd=" + r
	}
	vars := filepath.Join(dir, "vars.fd")
	copyFile(t, ovmfVars, vars)
	qmpSock := filepath.Join(dir, "qmp.sock")
	mem := o.MemoryMB
	if mem == 0 {
		mem = 1024
	}
	args := []string{"-accel", "tcg", "-m", fmt.Sprint(mem), "-smp", "2",
		"-drive", "if=pflash,format=raw,readonly=on,file=" + ovmfCode,
		"-drive", "if=pflash,format=raw,file=" + vars,
		"-drive", "file=" + img.path + ",format=raw,if=virtio",
		"-nic", nic, "-device", "qemu-xhci,id=xhci",
		"-display", "none", "-vga", "std",
		"-qmp", "unix:" + qmpSock + ",server=on,wait=off",
		"-serial", "file:" + v.serial}
	if o.RTC != "" {
		args = append(args, "-rtc", "base="+o.RTC)
	}
	if !o.NoTablet {
		args = append(args, "-device", "usb-tablet,id=tablet")
	}
	if !o.NoReader {
		v.reader = newVMReader(t)
		args = append(args, v.reader.qemuArgs()...)
	}
	for _, d := range o.Devices {
		args = append(args, "-device", d)
	}
	args = append(args, o.Args...)
	cmd := exec.Command(img.tools.qemu, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	v.stop = sync.OnceFunc(func() { cmd.Process.Kill(); cmd.Wait() })
	t.Cleanup(v.stop)
	v.log = followKioskLog(t, v.web)
	if v.reader != nil {
		v.reader.connect()
	}
	v.q = dialQMP(t, qmpSock)
	if v.reader != nil {
		v.reader.q = v.q
	}
	return v
}

// kernelStarted waits for the kernel's first line on the serial console
// and returns when it saw it (polled every 200 ms).
func (v *vm) kernelStarted(t *testing.T) time.Time {
	t.Helper()
	waitSerial(t, v.serial, "Linux version", 3*time.Minute)
	return time.Now()
}

// screenSize is the size of the VM's screen (OVMF's graphics mode, the
// kiosk's framebuffer), from a first screendump.
func (v *vm) screenSize(t *testing.T) image.Point {
	t.Helper()
	first, err := v.q.screendump(filepath.Join(v.dir, "first.png"))
	if err != nil {
		t.Fatal(err)
	}
	return first.Bounds().Size()
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitSerial polls the serial log for a line containing s and returns it.
func waitSerial(t *testing.T, path, s string, d time.Duration) string {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.Contains(sc.Text(), s) {
				f.Close()
				return strings.TrimSpace(sc.Text())
			}
		}
		f.Close()
	}
	tail, _ := os.ReadFile(path)
	if len(tail) > 4000 {
		tail = tail[len(tail)-4000:]
	}
	t.Fatalf("no %q on the serial console within %v; its end:\n%s", s, d, tail)
	return ""
}
