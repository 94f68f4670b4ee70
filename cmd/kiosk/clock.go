package main

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/clock"
	"github.com/nhikiosk/nhikiosk/clock/ds3231"
	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// clockParts are the outside world of the kiosk's clock, as start finds
// it: whether the kiosk owns the kernel's clock (on gokrazy, where it runs
// as root with CAP_SYS_TIME; elsewhere the operating system keeps it), the
// system clock, the image's build time, and how a DS3231 is opened.
type clockParts struct {
	own     bool
	system  clock.System
	built   time.Time
	openRTC func(bus string) (clock.RTC, func() error, error)
}

func realClockParts() clockParts {
	return clockParts{own: onGokrazy(), system: clock.Kernel(), built: clock.ImageTime(),
		openRTC: func(bus string) (clock.RTC, func() error, error) {
			d, err := ds3231.Open(bus)
			if err != nil {
				return nil, nil, err
			}
			return d, d.Close, nil
		}}
}

// kioskClock joins the clock keeper to the wizard (out of service until
// the time is known) and to the fleet's health.
type kioskClock struct {
	keeper *clock.Keeper
	close  func() error
	mu     sync.Mutex
	post   func(appliance.Event)
	known  bool // what the wizard was last told
}

// newKioskClock builds the keeper for cfg. Where the kiosk owns the clock
// it asks the upstream (https only: its time is checked over mutual TLS)
// and the configured NTP servers, reads and writes the DS3231 on
// time.rtc_bus, and keeps its state under data_dir. Elsewhere it only
// waits until the operating system's clock is believable. A configured
// RTC bus that does not exist is an exitNoRestart error.
func newKioskClock(cfg config.Config, cp clockParts, log *slog.Logger) (*kioskClock, error) {
	kc := &kioskClock{close: func() error { return nil }}
	o := clock.Options{System: cp.system, Floor: cp.built, SyncEvery: cfg.Time.SyncInterval.D(),
		Log: log.With("part", "clock"), OnChange: kc.changed}
	if !cp.own {
		o.System = clock.ReadOnly(cp.system)
		o.Sources = []clock.Source{clock.Watch(cp.system)}
	} else {
		o.StateFile = filepath.Join(cfg.DataDir, "clock.json")
		if ts, err := upstream.NewTimeSource(cfg.Upstream); err == nil {
			o.Sources = append(o.Sources, clock.Func(clock.KindUpstream, ts.Host(), ts.Time))
		} else {
			log.Warn("no authenticated time from the upstream", "err", err)
		}
		for _, s := range cfg.Time.NTPServers {
			o.Sources = append(o.Sources, clock.NTP(s))
		}
		if cfg.Time.RTCBus != "" {
			rtc, closeRTC, err := cp.openRTC(cfg.Time.RTCBus)
			if err != nil {
				return nil, &exitError{exitNoRestart, fmt.Errorf("time.rtc_bus: %w", err)}
			}
			o.RTC, kc.close = rtc, closeRTC
		}
	}
	kc.keeper = clock.New(o)
	kc.known = kc.keeper.Status().Known
	return kc, nil
}

// attach posts the clock's changes to the wizard from now on; the wizard
// starts from kc.known (appliance.Options.ClockUnknown).
func (kc *kioskClock) attach(post func(appliance.Event)) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	kc.post = post
	if known := kc.keeper.Status().Known; known != kc.known {
		kc.known = known
		post(appliance.Clock{Known: known})
	}
}

// changed is the keeper's OnChange: the wizard hears when the time
// becomes known.
func (kc *kioskClock) changed(st clock.Status) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if kc.post == nil || st.Known == kc.known {
		return
	}
	kc.known = st.Known
	kc.post(appliance.Clock{Known: st.Known})
}

// health is the clock's part of the fleet's health.
func (kc *kioskClock) health() *fleet.ClockHealth {
	st := kc.keeper.Status()
	h := &fleet.ClockHealth{Known: st.Known, Source: fleet.ClockSource(st.Source), WaitedS: int64(st.Waited.Seconds()),
		Vouched: st.Vouched, FloorAheadS: min(int64(st.FloorAhead.Seconds()), fleet.MaxFloorAheadS)}
	if s := fleet.Token(st.From); s.Valid() {
		h.Server = s
	}
	if !st.LastSync.IsZero() {
		t := st.LastSync.UTC()
		h.LastSync = &t
	}
	return h
}
