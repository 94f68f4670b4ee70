package ccid

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/nhikiosk/nhikiosk/internal/uevent"
	"github.com/nhikiosk/nhikiosk/reader"
)

// Options configures NewDevice. The zero value watches every CCID reader
// of the running system.
type Options struct {
	// Name, when set, is the sysfs path of the one reader to use
	// (config reader.name, e.g. /sys/devices/platform/…/usb1/1-1); other
	// readers are ignored. Empty: every reader, and Read uses the first
	// one (by sysfs path) with a card in it.
	Name string
	// SysRoot and DevRoot are where sysfs and the device nodes live;
	// empty means "/sys" and "/dev" (tests point them at a fake tree).
	SysRoot, DevRoot string
	// Uevents delivers hotplug events (a uevent.Mux subscription where
	// several parts follow hotplug); nil opens the kernel's netlink
	// socket when Run starts. Run closes it.
	Uevents uevent.Source
	// Open claims a found reader; nil opens it through usbfs (OpenUSB).
	Open func(Found) (USB, error)
	// SlotCheck is how long a reader's slot may stay quiet before its
	// status is asked, in case a change notification was lost; 0 means
	// Reader's default (5 s).
	SlotCheck time.Duration
	// Log receives one line per reader and card event (never card data);
	// nil is slog.Default().
	Log *slog.Logger
}

// device is the CCID reader(s) as a reader.Device: a monitor of readers
// and their slots, and the NHI card protocol (reader.ReadProfile) over the
// powered card.
type device struct {
	o      Options
	events chan reader.Event

	mu    sync.Mutex
	slots map[string]*slot // attached readers by sysfs path
	wg    sync.WaitGroup
}

// slot is one attached reader's slot 0 and what the watcher knows of it.
type slot struct {
	path string
	r    *Reader
	stop context.CancelFunc
	// use is held for a whole card read, and by the watcher while it
	// powers a card, so the two never drive the reader at once.
	use sync.Mutex

	mu      sync.Mutex
	present bool
	err     error // why the card present cannot be read (power-on failure)
}

func (s *slot) set(present bool, err error) {
	s.mu.Lock()
	s.present, s.err = present, err
	s.mu.Unlock()
}

func (s *slot) card() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.present, s.err
}

var _ reader.Device = (*device)(nil)

// NewDevice returns the CCID reader(s) described by o as a reader.Device.
// Nothing is opened until Run: readers are found in sysfs and through
// kernel uevents, claimed over usbfs, and their cards powered as they are
// inserted, so Read finds a powered card. Reader names in events are
// sysfs paths.
func NewDevice(o Options) reader.Device {
	if o.SysRoot == "" {
		o.SysRoot = "/sys"
	}
	if o.DevRoot == "" {
		o.DevRoot = "/dev"
	}
	if o.Open == nil {
		o.Open = func(f Found) (USB, error) { return OpenUSB(f.DevNode, f.Desc) }
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &device{o: o, events: make(chan reader.Event), slots: make(map[string]*slot)}
}

// Events implements reader.Device. The channel is unbuffered: Run waits
// for each event to be taken.
func (d *device) Events() <-chan reader.Event { return d.events }

// Run implements reader.Device. It reports the readers present (and the
// cards in them) first, then follows hotplug uevents and each reader's
// slot until ctx ends; it fails only if the uevent source cannot be
// opened or fails.
func (d *device) Run(ctx context.Context) error {
	defer close(d.events)
	err := d.monitor(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Read implements reader.Device: reader.ReadProfile over the powered card.
// A card the reader could not power fails with the power-on error
// (reader.ErrCardMute, reader.ErrNotNHICard).
func (d *device) Read(ctx context.Context) (p reader.Profile, err error) {
	err = d.withCard(func(r *Reader) (err error) {
		p, err = reader.ReadProfile(ctx, r)
		return err
	})
	if err != nil {
		return reader.Profile{}, fmt.Errorf("ccid: read card: %w", err)
	}
	return p, nil
}

// Authenticate implements reader.Device: reader.Authenticate over the
// powered card, holding the slot for the whole exchange (CCID has no
// transactions; nothing else of the kiosk's drives the card meanwhile,
// and the watcher still sees the card leave).
func (d *device) Authenticate(ctx context.Context, ex reader.Exchange) error {
	if err := d.withCard(func(r *Reader) error { return reader.Authenticate(ctx, r, ex) }); err != nil {
		return fmt.Errorf("ccid: authenticate card: %w", err)
	}
	return nil
}

// withCard runs f with the powered card of the slot to read, holding the
// slot.
func (d *device) withCard(f func(r *Reader) error) error {
	s, err := d.pick()
	if err != nil {
		return err
	}
	s.use.Lock()
	defer s.use.Unlock()
	switch present, perr := s.card(); {
	case !present:
		return reader.ErrNoCard
	case perr != nil:
		return perr
	}
	return f(s.r)
}

// pick returns the slot to read: the first attached reader (by sysfs path)
// with a card, else the first attached reader.
func (d *device) pick() (*slot, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.slots) == 0 {
		return nil, reader.ErrNoReader
	}
	paths := make([]string, 0, len(d.slots))
	for p := range d.slots {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if present, _ := d.slots[p].card(); present {
			return d.slots[p], nil
		}
	}
	return d.slots[paths[0]], nil
}
