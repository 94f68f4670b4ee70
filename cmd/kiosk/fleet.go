package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// kioskView is what the fleet side needs of the wizard (appliance.Kiosk).
type kioskView interface {
	Post(ev appliance.Event)
	Query(ctx context.Context, f func(appliance.Status)) error
}

// upstreamProbe is what the fleet side needs of the upstream client.
type upstreamProbe interface {
	Terms(ctx context.Context) (upstream.Terms, error)
}

// outboxView is what the fleet side reads of the outbox
// (*upstream.Outbox): queued entries, dead letters, entries set aside.
type outboxView interface {
	Len() (int, error)
	Dead() (int, error)
	SetAside() (int, error)
}

// eventSink receives fleet events (the agent; a recorder in tests).
type eventSink interface {
	Event(kind fleet.EventKind, f fleet.EventFields)
	Stats() fleet.Stats
}

// Health tuning.
const (
	probeEvery      = 30 * time.Second
	probeTimeout    = 5 * time.Second
	outboxStuckFor  = 15 * time.Minute
	minFreeBytes    = 64 << 20
	minFreePct      = 5
	restartDrainMax = 3 * time.Second
)

// kioskFleet is the kiosk side of the fleet agent: it gathers health,
// turns reader and card trouble into events, and carries out commands.
// It holds counts and tokens only, never personal data.
type kioskFleet struct {
	cfg     config.Config
	o       options
	k       kioskView
	screen  *recScreen
	probe   upstreamProbe
	outbox  outboxView
	paths   sysPaths
	now     func() time.Time
	booted  time.Time
	log     *slog.Logger
	restart func(why error) // makes start return so the process restarts
	// onGokrazy and reboot are the reboot command's seams.
	onGokrazy func() bool
	reboot    func() error
	// clock is where the time came from (nil: not reported).
	clock func() *fleet.ClockHealth

	mu         sync.Mutex
	sink       eventSink
	readerOK   bool
	readerName fleet.Token
	readerSeen bool // a reader was attached once: a detach is an unplug
	upOK       bool
	upLatency  time.Duration
	sessions   appliance.SessionCounts
	errs       map[fleet.ErrorKind]uint64
	outDepth   int
	outSince   time.Time // when the outbox last shrank or was empty
	outStuck   bool      // outbox_stuck sent for the current stall
	outDead    int       // dead letters at the last reading
	outAside   int       // entries set aside at the last reading
	deadRead   bool      // outDead has been read once

	// Central configuration (central.go): the agent's SetConfigHash, the
	// end of start, and whether a restart waits for a session to end.
	setHash        func(fleet.Token)
	stopped        <-chan struct{}
	pendingRestart atomic.Bool
}

// newFleetAgent returns the kiosk's fleet agent when a broker is
// configured (nil, nil when none is).
func newFleetAgent(cfg config.Config, kf *kioskFleet) (*fleet.Agent, error) {
	if cfg.MQTT.BrokerURL == "" {
		return nil, nil
	}
	a, err := fleet.NewAgent(cfg.MQTT,
		fleet.Identity{Kiosk: fleet.KioskRef{Site: cfg.Site, Kiosk: cfg.KioskID}, BootTime: kf.booted,
			ConfigHash: storedCentralHash(kf.o, cfg)},
		fleet.Options{Health: kf.health, Handler: fleetHandler{kf}, Logger: kf.log,
			StateDir: filepath.Join(cfg.DataDir, "fleet")})
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	kf.mu.Lock()
	kf.sink = a
	kf.mu.Unlock()
	kf.setHash = a.SetConfigHash
	return a, nil
}

// event sends an event if an agent runs.
func (kf *kioskFleet) event(kind fleet.EventKind, f fleet.EventFields) {
	kf.mu.Lock()
	s := kf.sink
	kf.mu.Unlock()
	if s != nil {
		s.Event(kind, f)
	}
}

func (kf *kioskFleet) countError(k fleet.ErrorKind) {
	kf.mu.Lock()
	defer kf.mu.Unlock()
	if kf.errs == nil {
		kf.errs = map[fleet.ErrorKind]uint64{}
	}
	kf.errs[k]++
}

// observeReader follows the reader's attach and detach (from the card
// watch) and tells the fleet of unplugs and replugs.
func (kf *kioskFleet) observeReader(ev reader.Event) {
	var kind fleet.EventKind
	kf.mu.Lock()
	switch ev.Kind {
	case reader.ReaderAttached:
		if kf.readerSeen && !kf.readerOK {
			kind = fleet.EvReaderReplugged
		}
		kf.readerOK, kf.readerSeen, kf.readerName = true, true, readerToken(ev.Reader)
	case reader.ReaderDetached:
		if kf.readerOK {
			kind = fleet.EvReaderUnplugged
		}
		kf.readerOK = false
	}
	kf.mu.Unlock()
	if kind != "" {
		kf.event(kind, fleet.EventFields{})
	}
}

// readerToken makes a reader's name (PC/SC names have spaces; CCID gives a
// path) into a Token: other bytes become '-', at most 64 bytes.
func readerToken(name string) fleet.Token {
	b := []byte(name)
	if len(b) > 64 {
		b = b[:64]
	}
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !ok && strings.IndexByte("._:+()/-", c) < 0 {
			b[i] = '-'
		}
	}
	if t := fleet.Token(b); t.Valid() {
		return t
	}
	return ""
}

// cardErrorKind classifies a card read error for the fleet, by the
// reader's sentinel (as CatalogKey does), never by its text.
func cardErrorKind(err error) (fleet.CardErrorKind, bool) {
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, reader.ErrNoCard),
		errors.Is(err, reader.ErrNoReader), errors.Is(err, reader.ErrReaderUnplugged):
		return "", false
	case errors.Is(err, reader.ErrCardMute), errors.Is(err, reader.ErrGarbledProfile):
		return fleet.CardUnreadable, true
	case errors.Is(err, reader.ErrNotNHICard):
		return fleet.CardNotNHI, true
	case errors.Is(err, reader.ErrCardRemoved):
		return fleet.CardRemoved, true
	}
	return fleet.CardProtocol, true
}

// tapReader is the card reader with its read errors reported to the fleet.
type tapReader struct {
	reader.Device
	kf *kioskFleet
}

// Read reads the card and reports a failure's kind.
func (t tapReader) Read(ctx context.Context) (reader.Profile, error) {
	p, err := t.Device.Read(ctx)
	t.report(err)
	return p, err
}

// Authenticate relays the card check and reports a card failure's kind
// (the upstream's refusals are not the card's).
func (t tapReader) Authenticate(ctx context.Context, ex reader.Exchange) error {
	err := t.Device.Authenticate(ctx, ex)
	if reader.CatalogKey(err) != "card.error.unknown" {
		t.report(err)
	}
	return err
}

func (t tapReader) report(err error) {
	if kind, ok := cardErrorKind(err); ok {
		t.kf.countError(fleet.ErrKindCard)
		t.kf.event(fleet.EvCardError, fleet.EventFields{CardError: kind})
	}
}
