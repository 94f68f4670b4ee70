package main

import (
	"context"
	"errors"
	"image"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/appliance/devices"
	"github.com/nhikiosk/nhikiosk/clock"
	"github.com/nhikiosk/nhikiosk/clock/clocktest"
	"github.com/nhikiosk/nhikiosk/clock/sntp/sntptest"
	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
	"github.com/nhikiosk/nhikiosk/display/headless"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// clockKiosk is the wizard as start wires it to the clock, running on a
// headless screen, with the states it went through.
type clockKiosk struct {
	mu     sync.Mutex
	states []appliance.ScreenID
}

func (ck *clockKiosk) screen() appliance.ScreenID {
	ck.mu.Lock()
	defer ck.mu.Unlock()
	return ck.states[len(ck.states)-1]
}

func (ck *clockKiosk) wait(t *testing.T, want appliance.ScreenID) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ck.screen() == want {
			return
		}
	}
	t.Fatalf("screen %s, want %s", ck.screen(), want)
}

func runClockKiosk(t *testing.T, kc *kioskClock) *clockKiosk {
	t.Helper()
	size := image.Pt(800, 480)
	h := displaytest.New(t, size, display.NewCatalog(), display.DefaultTheme(), "en")
	log := slog.New(slog.DiscardHandler)
	k, err := appliance.NewKiosk(h.UI, appliance.Options{Lang: appliance.LangEn,
		IdleTimeout: time.Minute, WarningCountdown: 20 * time.Second, RemovedScreen: 4 * time.Second,
		MaxDuration: 20 * time.Minute, Log: log, Card: devices.Card{Device: readertest.NewDevice("virtual")},
		CardKey: devices.CardErrorKey, Upstream: noUpstream{}, ClockUnknown: !kc.known})
	if err != nil {
		t.Fatal(err)
	}
	ck := &clockKiosk{}
	k.Observe(func(s appliance.State) { ck.mu.Lock(); ck.states = append(ck.states, s.Screen); ck.mu.Unlock() })
	kc.attach(k.Post)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { k.Run(ctx, headless.New(size), nil) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return ck
}

// TestClockFromUpstream is issue 21's case on the kiosk as start wires it:
// a Pi's clock in 1970, no RTC, the NTP server's answers dropped and the
// upstream not reachable. The wizard shows out of service (waiting for
// the time) and the fleet hears the time is unknown; once the upstream
// (nhisim over mutual TLS) answers, its time sets the clock, the wizard
// attracts, and the fleet hears where the time came from.
func TestClockFromUpstream(t *testing.T) {
	ca := upstreamtest.NewCA(t, "nhi-kiosks")
	srv := ca.Server(t)
	tc, err := server.TLSConfig(srv.CertFile, srv.KeyFile, ca.PEMFile)
	if err != nil {
		t.Fatal(err)
	}
	sim := upstreamtest.Start(t, server.Options{}, tc)
	g := upstreamtest.NewGate(t, strings.TrimPrefix(sim.URL, "https://"))
	ntp := sntptest.NewServer(t, time.Now)
	ntp.SetFault(sntptest.Silent) // the hospital's firewall drops NTP
	kiosk := ca.Client(t, "kiosk-1")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Upstream = config.Upstream{URL: "https://" + g.Addr(), ClientCertFile: kiosk.CertFile,
		ClientKeyFile: kiosk.KeyFile, CAFile: ca.PEMFile, Timeout: config.Duration(2 * time.Second)}
	cfg.Time.NTPServers = []string{ntp.Addr()}
	sys := clocktest.NewSystem(time.Unix(0, 0))
	kc, err := newKioskClock(cfg, clockParts{own: true, system: sys, built: time.Now().Add(-24 * time.Hour)}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ck := runClockKiosk(t, kc)
	ck.wait(t, appliance.ScreenOutOfService)
	if h := kc.health(); h.Known || h.Source != "" {
		t.Errorf("fleet health while waiting = %+v", h)
	}

	sync := func() clock.Status {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return kc.keeper.Sync(ctx)
	}
	if st := sync(); st.Known {
		t.Fatalf("time known with NTP dropped and the upstream away: %+v", st)
	}
	if ntp.Requests() == 0 {
		t.Error("the NTP server was not asked")
	}
	ck.wait(t, appliance.ScreenOutOfService)

	if g.Dropped() == 0 {
		t.Error("the kiosk did not try the upstream while it was away")
	}
	g.Open()
	before := time.Now()
	if st := sync(); !st.Known || st.Source != clock.KindUpstream {
		t.Fatalf("status after the upstream answered = %+v", st)
	}
	after := time.Now()
	// The upstream (this machine's clock) answered during the sync.
	if sets := sys.Sets(); len(sets) != 1 || sets[0].Before(before.Add(-100*time.Millisecond)) || sets[0].After(after.Add(100*time.Millisecond)) {
		t.Errorf("clock set to %v, want once to a time between %v and %v", sets, before, after)
	}
	ck.wait(t, appliance.ScreenAttract)
	h := kc.health()
	if !h.Known || h.Source != fleet.ClockUpstream || h.Server != "127.0.0.1" || h.LastSync == nil {
		t.Errorf("fleet health = %+v", h)
	}
	if h.Vouched {
		t.Errorf("fleet health = %+v after one answer of the upstream, want not vouched yet", h)
	}
	// A second answer that agrees: the upstream vouches for the clock.
	if st := sync(); !st.Vouched || st.Source != clock.KindUpstream {
		t.Fatalf("status after the upstream's second answer = %+v", st)
	}
	if h := kc.health(); !h.Vouched || h.FloorAheadS != 0 {
		t.Errorf("fleet health = %+v, want vouched", h)
	}
	// The fleet's health as the agent publishes it carries it.
	kf, _, _, _ := testFleet(t)
	kf.clock = kc.health
	fh := kf.health()
	fh.V = fleet.SchemaVersion
	if err := fh.Validate(); err != nil || fh.Clock == nil || fh.Clock.Source != fleet.ClockUpstream {
		t.Errorf("fleet health = %+v, %v; want the clock from the upstream", fh.Clock, err)
	}
}

// TestClockOffAppliance: where the operating system keeps the clock, the
// kiosk never sets it; it waits only while that clock is not believable.
func TestClockOffAppliance(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Upstream.URL = "http://127.0.0.1:1"
	sys := clocktest.NewSystem(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))
	kc, err := newKioskClock(cfg, clockParts{own: false, system: sys, built: time.Now().Add(-time.Hour)}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ck := runClockKiosk(t, kc)
	ck.wait(t, appliance.ScreenOutOfService)
	sys.Advance(time.Since(sys.Now())) // the OS's own NTP set it
	if st := kc.keeper.Sync(context.Background()); !st.Known || st.Source != clock.KindSystem {
		t.Fatalf("status = %+v", st)
	}
	ck.wait(t, appliance.ScreenAttract)
	if n := len(sys.Sets()); n != 0 {
		t.Errorf("the kiosk set a clock it does not own %d times", n)
	}
}

// TestClockRTC: a fitted DS3231 with a believable time starts the kiosk at
// once; one on a bus this board lacks stops it with status 125.
func TestClockRTC(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Upstream.URL = "http://127.0.0.1:1"
	cfg.Time.NTPServers = nil
	cfg.Time.RTCBus = "1"
	rtc := clocktest.NewRTC(time.Now(), nil)
	closed := false
	cp := clockParts{own: true, system: clocktest.NewSystem(time.Unix(0, 0)), built: time.Now().Add(-time.Hour),
		openRTC: func(bus string) (clock.RTC, func() error, error) {
			return rtc, func() error { closed = true; return nil }, nil
		}}
	kc, err := newKioskClock(cfg, cp, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if st := kc.keeper.Status(); !st.Known || st.Source != clock.KindRTC {
		t.Errorf("status with an RTC = %+v", st)
	}
	kc.close()
	if !closed {
		t.Error("the RTC's bus was not closed")
	}

	cp.openRTC = func(string) (clock.RTC, func() error, error) { return nil, nil, errors.New(`no I²C bus "1"`) }
	_, err = newKioskClock(cfg, cp, slog.New(slog.DiscardHandler))
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitNoRestart || !strings.Contains(err.Error(), "time.rtc_bus") {
		t.Errorf("newKioskClock with a missing bus = %v, want exit %d naming time.rtc_bus", err, exitNoRestart)
	}
}
