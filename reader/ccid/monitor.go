package ccid

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/nhikiosk/nhikiosk/reader"
)

// EventKind says what changed. The PC/SC watcher in package reader has its
// own event type; the two are to be unified when both land.
type EventKind int

// Event kinds.
const (
	// ReaderAttached: a CCID reader was found (at start or plugged in).
	ReaderAttached EventKind = iota + 1
	// ReaderDetached: the reader was unplugged; any card in it is gone.
	ReaderDetached
	// CardInserted: a card is in the slot. Card is set and powered, or Err
	// says why it could not be (reader.ErrCardMute, reader.ErrNotNHICard).
	CardInserted
	// CardRemoved: the card left the slot; a Card handed out before fails
	// with reader.ErrCardRemoved from now on.
	CardRemoved
)

func (k EventKind) String() string {
	switch k {
	case ReaderAttached:
		return "reader_attached"
	case ReaderDetached:
		return "reader_detached"
	case CardInserted:
		return "card_inserted"
	case CardRemoved:
		return "card_removed"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one change of a reader or its card.
type Event struct {
	Kind   EventKind
	Reader string  // the reader's sysfs path
	Card   *Reader // CardInserted: the powered card, a reader.Transport
	Err    error   // CardInserted: why the card could not be powered
}

// Monitor finds CCID readers, follows them being plugged in and out
// (kernel uevents), and reports cards inserted and removed (the readers'
// interrupt endpoints, or polling where they have none).
type Monitor struct {
	// SysRoot and DevRoot are where sysfs and the device nodes live
	// ("/sys" and "/dev" unless a test says otherwise).
	SysRoot, DevRoot string
	// Name, when set, is the sysfs path of the one reader to use
	// (config reader.name); other readers are ignored.
	Name string
	// Uevents delivers hotplug events; nil opens the kernel's netlink
	// socket.
	Uevents UeventSource
	// Open claims a found reader; nil opens it through usbfs.
	Open func(Found) (Device, error)
	// Log receives one line per reader and card event (no card data).
	Log *slog.Logger

	mu      sync.Mutex
	readers map[string]context.CancelFunc
	wg      sync.WaitGroup
}

// Run watches until ctx ends and sends every event to events, blocking
// when the consumer is slow (events are few and each matters). It returns
// ctx's error, or an error if the uevent source cannot be opened or
// fails.
func (m *Monitor) Run(ctx context.Context, events chan<- Event) error {
	m.defaults()
	src := m.Uevents
	if src == nil {
		var err error
		if src, err = NetlinkUevents(); err != nil {
			return err
		}
	}
	defer src.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); m.wg.Wait() }()
	found, err := Scan(m.SysRoot, m.DevRoot)
	if err != nil {
		m.Log.Warn("ccid scan failed", "err", err)
	}
	for _, f := range found {
		m.attach(ctx, f, events)
	}
	for {
		u, err := src.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("ccid: watch readers: %w", err)
		}
		m.uevent(ctx, u, events)
	}
}

func (m *Monitor) defaults() {
	if m.SysRoot == "" {
		m.SysRoot = "/sys"
	}
	if m.DevRoot == "" {
		m.DevRoot = "/dev"
	}
	if m.Open == nil {
		m.Open = func(f Found) (Device, error) { return OpenUSB(f.DevNode, f.Desc) }
	}
	if m.Log == nil {
		m.Log = slog.Default()
	}
	m.readers = make(map[string]context.CancelFunc)
}

// uevent attaches readers that were plugged in; readers unplugged notice
// it themselves (their transfers fail with ENODEV) and the remove event
// stops them in any case.
func (m *Monitor) uevent(ctx context.Context, u Uevent, events chan<- Event) {
	if u.Subsystem != "usb" || u.DevType != "usb_device" {
		return
	}
	path := filepath.Join(m.SysRoot, u.DevPath)
	switch u.Action {
	case "add":
		f, err := Probe(path, m.DevRoot)
		if err != nil {
			if !errors.Is(err, ErrNotCCID) {
				m.Log.Warn("ccid probe failed", "reader", path, "err", err)
			}
			return
		}
		m.attach(ctx, f, events)
	case "remove":
		m.mu.Lock()
		stop := m.readers[path]
		m.mu.Unlock()
		if stop != nil {
			stop()
		}
	}
}

func (m *Monitor) attach(ctx context.Context, f Found, events chan<- Event) {
	if m.Name != "" && m.Name != f.SysPath {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.readers[f.SysPath]; ok {
		return
	}
	dev, err := m.Open(f)
	if err != nil {
		m.Log.Warn("ccid reader cannot be opened", "reader", f.SysPath, "err", err)
		return
	}
	rctx, stop := context.WithCancel(ctx)
	m.readers[f.SysPath] = stop
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.watch(ctx, rctx, f, NewReader(dev, f.Desc), events)
		m.mu.Lock()
		delete(m.readers, f.SysPath)
		m.mu.Unlock()
		stop()
	}()
}

// watch follows one reader's slot until the reader goes or ctx ends;
// parent is the monitor's own context.
func (m *Monitor) watch(parent, ctx context.Context, f Found, r *Reader, events chan<- Event) {
	defer r.Close()
	send := func(e Event) bool {
		e.Reader = f.SysPath
		m.Log.Info("ccid event", "event", e.Kind.String(), "reader", f.SysPath, "err", e.Err)
		select {
		case events <- e:
			return true
		case <-ctx.Done():
			return false
		}
	}
	defer func() {
		// Unplugged: tell the consumer, unless the whole monitor stops.
		if parent.Err() == nil {
			m.Log.Info("ccid event", "event", ReaderDetached.String(), "reader", f.SysPath)
			select {
			case events <- Event{Kind: ReaderDetached, Reader: f.SysPath}:
			case <-parent.Done():
			}
		}
	}()
	if !send(Event{Kind: ReaderAttached}) {
		return
	}
	present, err := r.CardPresent(ctx)
	for err == nil {
		if present {
			e := Event{Kind: CardInserted, Card: r}
			if e.Err = r.PowerOn(ctx); e.Err != nil {
				e.Card = nil
			}
			if !send(e) {
				return
			}
		}
		var now bool
		now, err = r.WaitCardChange(ctx, present)
		if err == nil && present && !now {
			if !send(Event{Kind: CardRemoved}) {
				return
			}
		}
		present = now
	}
	if !errors.Is(err, reader.ErrReaderUnplugged) && ctx.Err() == nil {
		m.Log.Warn("ccid reader failed", "reader", f.SysPath, "err", err)
	}
}
