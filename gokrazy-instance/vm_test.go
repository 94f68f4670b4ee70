package instance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/internal/itest"
	"github.com/nhikiosk/nhikiosk/reader/ccid/ccidtest"
	"github.com/nhikiosk/nhikiosk/reader/ccid/vscard"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// TestVMKiosk builds the qemu instance's image with gok, formats /perm
// with a kiosk configuration (reader ccid, display fbdev, the image's
// font, nhisim on the host over mutual TLS), boots it in QEMU (TCG) with
// an emulated usb-ccid reader whose card is our virtual NHI card (over
// the ccid-card-passthru chardev) and QEMU's usb-tablet for touch, and
// uses the kiosk as a person would, through QMP: insert the card, tap
// (input-send-event), type on the on-screen keyboards. Every screen is
// compared with the same wizard drawn on the host (the twin), and a
// screendump of each is kept (go test -artifacts).
//
// It reads a card (the exact T=1 blocks checked), pulls a card out in
// the middle of a read, goes through a whole registration to its receipt
// (nhisim on the host, reached at 10.0.2.2 through QEMU's user
// networking, mails the code to Mailpit), types the e-mail's code at the
// kiosk, and checks that nhisim now lets the person log in; then it
// unplugs and plugs back the tablet and the reader in the middle of a
// session (device_del, device_add), and taps and cards work again.
//
// Skipped where gok is not on PATH (CI does not install it).
func TestVMKiosk(t *testing.T) {
	gok := itest.Optional(t, "gok", "the appliance tier builds a gokrazy image (see docs/appliance.md)")
	qemu := itest.Command(t, "qemu-system-x86_64", "qemu-system-x86")
	mkfs := itest.Command(t, "mkfs.ext4", "e2fsprogs")
	smtp := itest.Env(t, "NHIKIOSK_SMTP_ADDR", "Mailpit (SMTP catcher)")
	mailpit := upstreamtest.Mailpit{API: itest.Env(t, "NHIKIOSK_MAILPIT_API", "Mailpit (SMTP catcher)")}
	if _, err := os.Stat(ovmfCode); err != nil {
		t.Skipf("OVMF missing (Debian package ovmf): %v", err)
	}
	dir := t.TempDir()
	img := buildImage(t, gok, dir)
	sim := startNhisim(t, dir, "vm-1", smtp)
	person := readertest.TestOne
	email := fmt.Sprintf("vm-%d@example.com", time.Now().UnixNano())
	staff := staffKey(t)
	cfgDir := formatPerm(t, mkfs, dir, img, map[string][]byte{
		"breakglass.authorized_keys": ssh.MarshalAuthorizedKey(staff.PublicKey()),
		"nhikiosk/config.json": fmt.Appendf(nil, `{
  "site": "qemu-lab", "kiosk_id": "vm-1",
  "upstream": { "url": "https://%s:%s", "client_cert_file": "kiosk.pem", "client_key_file": "kiosk-key.pem",
    "ca_file": "ca.pem", "age_recipient": %q },
  "session": { "idle_timeout": "10m" },
  "reader": { "backend": "ccid" },
  "display": { "backend": "fbdev", "font_file": %q }
}`, guestHost, sim.Port, sim.Recipient, imageFont),
		"nhikiosk/kiosk.pem":     readFile(t, sim.Kiosk.CertFile),
		"nhikiosk/kiosk-key.pem": readFile(t, sim.Kiosk.KeyFile),
		"nhikiosk/ca.pem":        readFile(t, sim.CA.PEMFile),
	})

	vm := bootVM(t, qemu, dir, img)
	card := vm.card
	q := vm.q
	waitSerial(t, vm.serial, "Linux version", 3*time.Minute)
	kernel := time.Now() // within 200 ms of the kernel's first line
	first, err := q.screendump(filepath.Join(dir, "first.png"))
	if err != nil {
		t.Fatal(err)
	}
	size := first.Bounds().Size()
	tw := newTwin(t, cfgDir, fontFile(t), size, person, email)
	scr := &vmScreen{t: t, q: q, tw: tw, size: size, tmp: dir, art: t.ArtifactDir(),
		onFail: vm.log.String}
	attract := scr.sync("attract", 5*time.Minute)
	t.Logf("kernel start to the attract screen: %v", attract.Sub(kernel).Round(time.Millisecond))

	// breakglass does not start on boot by design: started from gokrazy's
	// web interface as docs/appliance.md says, it lets the key in /perm in.
	startBreakglass(t, vm.web)
	sshIn(t, vm.ssh, staff)

	// A card read: the menu, and the T=1 blocks the guest sent.
	vm.wire()
	inserted := time.Now()
	vm.insert(t)
	tw.Insert()
	tw.Want(appliance.ScreenMenu)
	menu := scr.sync("", time.Minute)
	t.Logf("card insertion to the menu on screen: %v", menu.Sub(inserted).Round(time.Millisecond))
	checkWire(t, vm.wire())
	pull(t, card(), tw, scr)

	// The card pulled out in the middle of READ PROFILE: QEMU answers the
	// pending XfrBlock with an empty block saying "no card"; the kiosk
	// must take it for a removal (NHIKIOSK_VM_PCAP records it).
	ended := strings.Count(vm.log.String(), `"session ended"`)
	vm.pullOnRead.Store(true)
	vm.insert(t)
	log := vm.log.wait(t, `"session ended"`, ended+1, time.Minute)
	time.Sleep(2 * time.Second) // the read's own answer, if it comes second
	if log = vm.log.String(); strings.Contains(log, `"card.error.mute"`) || !strings.Contains(log, `"event":"card removed"`) {
		t.Errorf("a card pulled out mid-read was not a removal:\n%s", log)
	}
	scr.sync("attract-after-pulled-mid-read", time.Minute)

	// Touch: a whole registration through the tablet.
	tw.Mirror = scr.mirror
	vm.insert(t)
	tw.Insert()
	scr.sync("", time.Minute)
	tapped := time.Now()
	tw.Tap(appliance.IDRegister) // mirrored: returns once the VM shows the rules
	t.Logf("tap to the next screen (menu to the rules): %v", time.Since(tapped).Round(time.Millisecond))
	registerOnScreen(t, tw, scr)
	scr.masks = []string{"receipt.reference", "receipt.qr"}
	submitted := time.Now()
	tw.Tap(appliance.IDSubmit)
	tw.Want(appliance.ScreenReceipt)
	t.Logf("submit to the receipt on screen: %v", time.Since(submitted).Round(time.Millisecond))
	scr.masks = nil
	client := sim.Client(t)
	if _, err := client.Login(ctxFor(t, 30*time.Second), person.CardNumber, person.IDNumber, appliancetestPassword); !isCode(err, upstream.ErrCodeNotActive) {
		t.Errorf("login before the e-mail code = %v, want not active", err)
	}
	code := upstreamtest.CodeIn(t, mailpit.Wait(t, email, 1).Text)
	pull(t, card(), tw, scr)

	// The e-mail's code typed at the kiosk: the account is active.
	vm.insert(t)
	tw.Insert()
	scr.sync("", time.Minute)
	tw.Tap(appliance.IDVerify)
	tw.Tap("field." + string(appliance.FieldCode))
	scr.masks = []string{"field." + string(appliance.FieldCode)}
	tw.Mirror = nil // each kiosk types the code its own nhisim sent
	tw.Type(tw.Mail.WaitCode(t, tw.Email, 1))
	for _, d := range code {
		scr.tapVM("key." + string(d))
	}
	scr.sync("verify-code-typed", time.Minute)
	tw.Mirror = scr.mirror
	if tw.UI.Find("key.enter") != nil {
		tw.Tap("key.enter") // closes the keypad
	}
	scr.masks = nil
	tw.Tap(appliance.IDSubmit)
	tw.Want(appliance.ScreenResult)
	if _, err := client.Login(ctxFor(t, 30*time.Second), person.CardNumber, person.IDNumber, appliancetestPassword); err != nil {
		t.Errorf("login after the e-mail code was typed at the kiosk: %v, want an active account", err)
	}
	tw.Tap(appliance.IDFinish)
	pull(t, card(), tw, scr)

	// Hardware mid-session: the tablet unplugged and plugged back (the
	// session goes on), taps work again; the reader unplugged (the session
	// ends, the kiosk is out of service for want of a reader) and plugged
	// back (it returns by itself), cards work again. Then the tablet
	// unplugged between sessions: out of service for want of touch, and
	// back when it returns.
	vm.insert(t)
	tw.Insert()
	scr.sync("", time.Minute)
	q.unplug("tablet")
	vm.log.wait(t, `"no_touch":true`, 1, 2*time.Minute)
	tw.K.Dispatch(appliance.Hardware{NoTouch: true})
	tw.Step()
	tw.Want(appliance.ScreenMenu)
	scr.sync("menu-without-touch", time.Minute)
	q.must("device_add", map[string]any{"driver": "usb-tablet", "id": "tablet2"})
	vm.log.wait(t, "touch device attached", 2, 2*time.Minute) // the new tablet
	tw.K.Dispatch(appliance.Hardware{})
	tw.Tap(appliance.IDRegister)
	tw.Want(appliance.ScreenTerms)

	q.unplug("ccid")
	tw.Reader.Detach()
	tw.K.Dispatch(appliance.CardRemoved{})
	tw.K.Dispatch(appliance.Hardware{NoReader: true})
	tw.Wait(5 * time.Second)
	tw.Want(appliance.ScreenOutOfService)
	scr.sync("out-of-service-no-reader", 2*time.Minute)
	vm.replugReader(t)
	tw.Reader.Attach()
	tw.K.Dispatch(appliance.Hardware{})
	tw.Step()
	scr.sync("attract-reader-back", 2*time.Minute)
	vm.insert(t)
	tw.Insert()
	scr.sync("menu-after-replug", 2*time.Minute)
	tw.Tap(appliance.IDRegister)
	tw.Want(appliance.ScreenTerms)
	pull(t, vm.card(), tw, scr)

	q.unplug("tablet2")
	tw.K.Dispatch(appliance.Hardware{NoTouch: true})
	tw.Step()
	scr.sync("out-of-service-no-touch", 2*time.Minute)
	q.must("device_add", map[string]any{"driver": "usb-tablet", "id": "tablet3"})
	tw.K.Dispatch(appliance.Hardware{})
	tw.Step()
	scr.sync("attract-touch-back", 2*time.Minute)
	vm.insert(t)
	tw.Insert()
	scr.sync("", time.Minute)
	tw.Tap(appliance.IDRegister)
	tw.Want(appliance.ScreenTerms)
	if log := vm.log.String(); !strings.Contains(log, `"msg":"kiosk hardware"`) {
		t.Errorf("the kiosk never logged its hardware missing:\n%s", log)
	}
}

// appliancetestPassword is the password the registration types.
const appliancetestPassword = "Kiosk1!pw"

// registerOnScreen goes from the rules of the service to the review, as
// appliancetest's RegisterSteps do, every tap mirrored on the VM.
func registerOnScreen(t *testing.T, tw *twin, scr *vmScreen) {
	t.Helper()
	tw.Want(appliance.ScreenTerms)
	tw.ReadTerms()
	tw.Tap(appliance.IDAgree)
	tw.Want(appliance.ScreenCard)
	tw.Tap(appliance.IDNext)
	tw.Want(appliance.ScreenHousehold)
	tw.Fill(appliance.FieldHousehold, "F1234567")
	tw.Tap(appliance.IDNext)
	tw.Want(appliance.ScreenAddress)
	tw.Tap("county.連江縣")
	tw.Tap("township.南竿鄉")
	tw.Tap("village.介壽村")
	tw.Fill(appliance.FieldNeighbourhood, "3")
	tw.Tap(appliance.IDNext)
	tw.Want(appliance.ScreenPassword)
	tw.Fill(appliance.FieldPassword, appliancetestPassword)
	tw.Fill(appliance.FieldPassword2, appliancetestPassword)
	tw.Tap(appliance.IDNext)
	tw.Want(appliance.ScreenContact)
	tw.Fill(appliance.FieldPhoneArea, "02")
	tw.Fill(appliance.FieldPhoneNumber, "23456789")
	tw.Fill(appliance.FieldMobile, "0912345678")
	tw.Fill(appliance.FieldEmail, tw.Email)
	tw.Tap(appliance.IDNext)
	tw.Want(appliance.ScreenReview)
}

// pull takes the card out of both kiosks and waits for the attract screen
// after "card removed".
func pull(t *testing.T, card *vscard.Card, tw *twin, scr *vmScreen) {
	t.Helper()
	if err := card.Remove(); err != nil {
		t.Fatal(err)
	}
	tw.Pull()
	tw.Wait(5 * time.Second)
	tw.Want(appliance.ScreenAttract)
	scr.sync("", time.Minute)
}

// vmRun is the booted VM and what the test holds of it.
type vmRun struct {
	q      *qmp
	serial string
	web    string // the guest's gokrazy web interface, forwarded
	ssh    string // the guest's port 22 (breakglass), forwarded
	log    *guestLog
	ln     net.Listener
	t1     *ccidtest.T1Card
	// pullOnRead makes the card go silent on the next READ PROFILE and
	// be pulled out.
	pullOnRead atomic.Bool

	mu     sync.Mutex
	cur    *vscard.Card
	blocks []string
	slots  int
}

func (v *vmRun) card() *vscard.Card {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.cur
}

// insert puts a card fresh from its power-on (T=1 sequence numbers from
// zero) into the VM's reader.
func (v *vmRun) insert(t *testing.T) {
	t.Helper()
	v.mu.Lock()
	v.t1 = ccidtest.NewT1Card(nhiCard(t))
	c := v.cur
	v.mu.Unlock()
	if err := c.Insert(ccidtest.NHIATR); err != nil {
		t.Fatal(err)
	}
}

// wire returns the T=1 blocks the guest sent since the last call.
func (v *vmRun) wire() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	w := v.blocks
	v.blocks = nil
	return w
}

// readProfile is the NHI READ PROFILE command inside a T=1 block.
var readProfile = []byte{0x00, 0xCA, 0x11, 0x00, 0x02, 0x00, 0x00}

// connectCard accepts QEMU's connection to the card chardev and serves
// the virtual NHI card on it.
func (v *vmRun) connectCard(t *testing.T) {
	t.Helper()
	conn, err := acceptWithin(v.ln, 30*time.Second)
	if err != nil {
		t.Fatalf("QEMU did not connect the card chardev: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	var c *vscard.Card
	c, err = vscard.NewCard(conn, func(block []byte) []byte {
		v.mu.Lock()
		v.blocks = append(v.blocks, fmt.Sprintf("% X", block))
		v.mu.Unlock()
		if bytes.Contains(block, readProfile) && v.pullOnRead.CompareAndSwap(true, false) {
			go c.Remove() // the card leaves with the command unanswered
			return nil
		}
		v.mu.Lock()
		t1 := v.t1
		v.mu.Unlock()
		return t1.Receive(block)
	})
	if err != nil {
		t.Fatal(err)
	}
	go c.Serve()
	v.mu.Lock()
	v.cur = c
	v.mu.Unlock()
}

// bootVM starts QEMU on img: OVMF, virtio disk, user networking
// (restrict=off, the gokrazy web interface forwarded), -vga std, an xHCI
// controller with the usb-tablet and usb-ccid with the passthru card,
// QMP and the serial console in a file.
func bootVM(t *testing.T, qemu, dir, img string) *vmRun {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	v := &vmRun{serial: filepath.Join(dir, "serial.log"), ln: ln,
		web: fmt.Sprintf("127.0.0.1:%d", freePort(t)), ssh: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	vars := filepath.Join(dir, "vars.fd")
	qmpSock := filepath.Join(dir, "qmp.sock")
	pcap := "" // NHIKIOSK_VM_PCAP records the reader's USB traffic (reader/ccid/testdata)
	if p := os.Getenv("NHIKIOSK_VM_PCAP"); p != "" {
		pcap = ",pcap=" + p
	}
	copyFile(t, ovmfVars, vars)
	cmd := exec.Command(qemu, "-accel", "tcg", "-m", "1024", "-smp", "2",
		"-drive", "if=pflash,format=raw,readonly=on,file="+ovmfCode,
		"-drive", "if=pflash,format=raw,file="+vars,
		"-drive", "file="+img+",format=raw,if=virtio",
		"-nic", "user,restrict=off,model=virtio-net-pci,hostfwd=tcp:"+v.web+"-:80,hostfwd=tcp:"+v.ssh+"-:22",
		"-chardev", "socket,id=card,host=127.0.0.1,port="+fmt.Sprint(ln.Addr().(*net.TCPAddr).Port),
		"-device", "qemu-xhci,id=xhci", "-device", "usb-tablet,id=tablet",
		"-device", "usb-ccid,id=ccid"+pcap, "-device", "ccid-card-passthru,chardev=card,id=cardslot",
		"-display", "none", "-vga", "std",
		"-qmp", "unix:"+qmpSock+",server=on,wait=off",
		"-serial", "file:"+v.serial)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	v.log = followKioskLog(t, v.web)
	v.connectCard(t)
	v.q = dialQMP(t, qmpSock)
	return v
}

// replugReader plugs a new usb-ccid in (the old one was unplugged) with
// its card on a new chardev connection.
func (v *vmRun) replugReader(t *testing.T) {
	t.Helper()
	v.slots++
	id := fmt.Sprintf("card%d", v.slots)
	v.q.must("chardev-add", map[string]any{"id": id, "backend": map[string]any{"type": "socket", "data": map[string]any{
		"addr":   map[string]any{"type": "inet", "data": map[string]any{"host": "127.0.0.1", "port": fmt.Sprint(v.ln.Addr().(*net.TCPAddr).Port)}},
		"server": false}}})
	v.connectCard(t)
	v.q.must("device_add", map[string]any{"driver": "usb-ccid", "id": "ccid" + id})
	v.q.must("device_add", map[string]any{"driver": "ccid-card-passthru", "chardev": id, "id": "slot" + id})
}

// checkWire compares the T=1 blocks the guest sent with one NHI read.
// QEMU's reader claims to do the IFSD exchange itself (dwFeatures 0x400)
// but passes blocks through, so the card keeps IFSD 32 and chains the
// 59-byte profile answer: the guest acknowledges the first part with R(0).
func checkWire(t *testing.T, wire []string) {
	t.Helper()
	want := []string{
		"00 00 15 00 A4 04 00 10 D1 58 00 00 01 00 00 00 00 00 00 00 00 00 11 00 3C", // I(0) SELECT
		"00 40 07 00 CA 11 00 02 00 00 9E",                                           // I(1) READ PROFILE
		"00 80 00 80",                                                                // R(0): next part of the card's chain
	}
	if strings.Join(wire, "|") != strings.Join(want, "|") {
		t.Errorf("blocks from the guest:\n%s\nwant:\n%s", strings.Join(wire, "\n"), strings.Join(want, "\n"))
	}
}

// nhiCard answers like the NHI card of the fake person TEST ONE, with
// the card logic the PC/SC tests use.
func nhiCard(t *testing.T) ccidtest.Card {
	c, err := readertest.NewCard(readertest.TestOne)
	if err != nil {
		t.Fatal(err)
	}
	return func(apdu []byte) []byte {
		resp, err := c.Respond(apdu)
		if err != nil {
			t.Errorf("virtual card: %v", err)
		}
		return resp
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// isCode reports whether err is an upstream error with code.
func isCode(err error, code string) bool {
	var ae *upstream.Error
	return errors.As(err, &ae) && ae.Code == code
}
