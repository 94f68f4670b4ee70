package instance

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/internal/itest"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// The upstream as the guest reaches it: a guestfwd address of QEMU's user
// network, relayed to the host's nhisim.
const (
	clockGuestUpstream = "10.0.2.100"
	clockGuestPort     = 8443
)

// TestVMWaitsForTime is issue 21 on the appliance: the qemu image booted
// like a Raspberry Pi without a battery-backed clock (QEMU's RTC at
// 1970-01-01), on a network where NTP cannot work (user networking with
// restrict=on: nothing but the forwards below gets out), with an upstream
// (nhisim over mutual TLS on the host, through a guestfwd relay) that does
// not answer at first. The kiosk must start at once and show the waiting
// screen; once the upstream answers, take its time and show the attract
// screen. Screens are compared with the same wizard drawn on the host
// (the twin).
//
// Skipped where gok is not on PATH (CI does not install it).
func TestVMWaitsForTime(t *testing.T) {
	tools := needVM(t)
	dir := t.TempDir()

	// The upstream: nhisim over mutual TLS with a certificate for the
	// guest's address of it, behind a gate that is closed for now.
	// nhisim needs a mail server since issue 13; the clock test sends no mail.
	smtp := itest.Env(t, "NHIKIOSK_SMTP_ADDR", "Mailpit (SMTP catcher)")
	sim := startNhisim(t, dir, nhisimOptions{KioskID: "vm-clock", GuestIP: net.ParseIP(clockGuestUpstream), SMTP: smtp})
	gate := upstreamtest.NewGate(t, sim.Addr())

	img := buildImage(t, tools, dir)
	perm := newKioskPerm(t, sim, fmt.Sprintf("https://%s:%d", clockGuestUpstream, clockGuestPort))
	perm.set("upstream.timeout", "5s")
	// The host (10.0.2.2) and the public pool: restrict=on lets neither
	// through, as a hospital firewall that drops NTP.
	perm.set("time.ntp_servers", []string{"10.0.2.2", "pool.ntp.org"})
	cfgDir := img.format(t, perm)

	vm := img.boot(t, vmOptions{RTC: "1970-01-01T00:00:00", Restrict: true,
		GuestFwd: []string{relayTo(t, clockGuestUpstream, clockGuestPort, gate.Addr())}})
	log := vm.log
	kernel := vm.kernelStarted(t)
	tw := newTwin(t, cfgDir, vm.screenSize(t), twinOptions{ClockUnknown: true})
	scr := vm.screen(t, tw)
	waitingFrame := tw.frame()
	waiting := scr.sync("waiting-for-time", 5*time.Minute)
	t.Logf("kernel start to the waiting screen: %v", waiting.Sub(kernel).Round(time.Millisecond))
	started, first := log.wait(t, "kiosk starting", 1, time.Minute), log.wait(t, "first frame presented", 1, time.Minute)
	t.Logf("kiosk starting to its first frame (the waiting screen), by the guest's clock: %v", first.guest.Sub(started.guest).Round(time.Millisecond))
	if started.guest.Year() != 1970 {
		t.Errorf("the guest's clock read %v at the kiosk's start, want 1970 (QEMU's RTC)", started.guest)
	}
	if d := gate.Dropped(); d == 0 {
		t.Error("the kiosk has not asked the upstream for the time yet")
	}
	if l := log.String(); !strings.Contains(l, "waiting for the correct time") {
		t.Errorf("the kiosk did not log that it waits for the time:\n%s", l)
	}

	tw.K.Dispatch(appliance.Clock{Known: true})
	tw.Step()
	tw.Want(appliance.ScreenAttract)
	if n, total := differing(tw.frame(), waitingFrame, nil); alike(n, total) {
		t.Fatal("the waiting and attract screens are too alike to tell apart")
	}
	opened := time.Now()
	gate.Open()
	attract := scr.sync("attract-after-time", 2*time.Minute)
	t.Logf("upstream reachable to the attract screen: %v", attract.Sub(opened).Round(time.Millisecond))
	set := log.wait(t, `"msg":"clock set"`, 1, time.Minute)
	if !strings.Contains(set.line, `"source":"upstream"`) {
		t.Errorf("the clock was set by %s, want the upstream", set.line)
	}
	if d := set.guest.Sub(time.Now()); d < -time.Minute || d > time.Minute {
		t.Errorf("the guest logged the clock set at %v, %v from the host's time", set.guest, d)
	}
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.Contains(l, `"msg":"clock set"`) && !strings.Contains(l, `"source":"upstream"`) {
			t.Errorf("another source set the clock through restrict=on: %s", l)
		}
	}
	if l := log.String(); !strings.Contains(l, `"source":"ntp","from":"10.0.2.2"`) {
		t.Errorf("the kiosk did not report NTP failing:\n%s", l)
	}
}
