package instance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/internal/itest"
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
	tools := needVM(t)
	smtp := itest.Env(t, "NHIKIOSK_SMTP_ADDR", "Mailpit (SMTP catcher)")
	mailpit := upstreamtest.Mailpit{API: itest.Env(t, "NHIKIOSK_MAILPIT_API", "Mailpit (SMTP catcher)")}
	dir := t.TempDir()
	img := buildImage(t, tools, dir)
	sim := startNhisim(t, dir, nhisimOptions{KioskID: "vm-1", SMTP: smtp})
	person := readertest.TestOne
	email := fmt.Sprintf("vm-%d@example.com", time.Now().UnixNano())
	staff := staffKey(t)
	perm := newKioskPerm(t, sim, sim.GuestURL())
	perm.set("session.idle_timeout", "10m")
	perm.breakglassKey(staff.PublicKey())
	cfgDir := img.format(t, perm)

	vm := img.boot(t, vmOptions{HostFwd: []int{22}})
	q, rd := vm.q, vm.reader
	kernel := vm.kernelStarted(t) // within 200 ms of the kernel's first line
	tw := newTwin(t, cfgDir, vm.screenSize(t), twinOptions{Person: person, Email: email})
	scr := vm.screen(t, tw)
	attract := scr.sync("attract", 5*time.Minute)
	t.Logf("kernel start to the attract screen: %v", attract.Sub(kernel).Round(time.Millisecond))

	// breakglass does not start on boot by design: started from gokrazy's
	// web interface as docs/appliance.md says, it lets the key in /perm in.
	startBreakglass(t, vm.web)
	sshIn(t, vm.fwd[22], staff)

	// A card read: the menu, and the T=1 blocks the guest sent.
	rd.wire()
	inserted := time.Now()
	rd.insert()
	tw.Insert()
	tw.Want(appliance.ScreenMenu)
	menu := scr.sync("", time.Minute)
	t.Logf("card insertion to the menu on screen: %v", menu.Sub(inserted).Round(time.Millisecond))
	checkWire(t, rd.wire())
	pull(t, rd.card(), tw, scr)

	// The card pulled out in the middle of READ PROFILE: QEMU answers the
	// pending XfrBlock with an empty block saying "no card"; the kiosk
	// must take it for a removal (NHIKIOSK_VM_PCAP records it).
	ended := vm.log.count(`"session ended"`)
	rd.pullOnRead.Store(true)
	rd.insert()
	vm.log.wait(t, `"session ended"`, ended+1, time.Minute)
	time.Sleep(2 * time.Second) // the read's own answer, if it comes second
	if log := vm.log.String(); strings.Contains(log, `"card.error.mute"`) || !strings.Contains(log, `"event":"card removed"`) {
		t.Errorf("a card pulled out mid-read was not a removal:\n%s", log)
	}
	scr.sync("attract-after-pulled-mid-read", time.Minute)

	// Touch: a whole registration through the tablet.
	tw.Mirror = scr.mirror
	rd.insert()
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
	pull(t, rd.card(), tw, scr)

	// The e-mail's code typed at the kiosk: the account is active.
	rd.insert()
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
	pull(t, rd.card(), tw, scr)

	// Hardware mid-session: the tablet unplugged and plugged back (the
	// session goes on), taps work again; the reader unplugged (the session
	// ends, the kiosk is out of service for want of a reader) and plugged
	// back (it returns by itself), cards work again. Then the tablet
	// unplugged between sessions: out of service for want of touch, and
	// back when it returns.
	rd.insert()
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
	rd.replug()
	tw.Reader.Attach()
	tw.K.Dispatch(appliance.Hardware{})
	tw.Step()
	scr.sync("attract-reader-back", 2*time.Minute)
	rd.insert()
	tw.Insert()
	scr.sync("menu-after-replug", 2*time.Minute)
	tw.Tap(appliance.IDRegister)
	tw.Want(appliance.ScreenTerms)
	pull(t, rd.card(), tw, scr)

	q.unplug("tablet2")
	tw.K.Dispatch(appliance.Hardware{NoTouch: true})
	tw.Step()
	scr.sync("out-of-service-no-touch", 2*time.Minute)
	q.must("device_add", map[string]any{"driver": "usb-tablet", "id": "tablet3"})
	tw.K.Dispatch(appliance.Hardware{})
	tw.Step()
	scr.sync("attract-touch-back", 2*time.Minute)
	rd.insert()
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
	// 連江縣南竿鄉介壽村, by code: each list short enough to show whole.
	tw.Tap("county.09007")
	tw.Tap("township.09007010")
	tw.Tap("village.09007010001")
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
