package ccid

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/nhikiosk/nhikiosk/internal/uevent"
	"github.com/nhikiosk/nhikiosk/reader"
)

// monitor finds CCID readers, follows them being plugged in and out
// (kernel uevents), and follows cards inserted and removed (the readers'
// interrupt endpoints, or polling where they have none), until ctx ends.
// It returns ctx's error, or why the uevent source failed.
func (d *device) monitor(ctx context.Context) error {
	src := d.o.Uevents
	if src == nil {
		var err error
		if src, err = uevent.Netlink(); err != nil {
			return fmt.Errorf("ccid: watch readers: %w", err)
		}
	}
	defer src.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); d.wg.Wait() }()
	d.scan(ctx)
	for {
		u, err := src.Next(ctx)
		switch {
		case errors.Is(err, uevent.ErrOverflow):
			// Events were lost: whatever was plugged in meanwhile is
			// found again; readers unplugged notice it themselves.
			d.o.Log.Warn("ccid uevents lost; rescanning")
			d.scan(ctx)
			continue
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			return fmt.Errorf("ccid: watch readers: %w", err)
		}
		d.uevent(ctx, u)
	}
}

// scan attaches every CCID reader in sysfs not attached yet.
func (d *device) scan(ctx context.Context) {
	found, err := Scan(d.o.SysRoot, d.o.DevRoot)
	if err != nil {
		d.o.Log.Warn("ccid scan failed", "err", err)
	}
	for _, f := range found {
		d.attach(ctx, f)
	}
}

// uevent attaches readers that were plugged in; readers unplugged notice
// it themselves (their transfers fail with ENODEV) and the remove event
// stops them in any case.
func (d *device) uevent(ctx context.Context, u uevent.Event) {
	if u.Subsystem != "usb" || u.DevType != "usb_device" {
		return
	}
	path := filepath.Join(d.o.SysRoot, u.DevPath)
	switch u.Action {
	case "add":
		f, err := Probe(path, d.o.DevRoot)
		if err != nil {
			if !errors.Is(err, ErrNotCCID) {
				d.o.Log.Warn("ccid probe failed", "reader", path, "err", err)
			}
			return
		}
		d.attach(ctx, f)
	case "remove":
		d.mu.Lock()
		s := d.slots[path]
		d.mu.Unlock()
		if s != nil {
			s.stop()
		}
	}
}

func (d *device) attach(ctx context.Context, f Found) {
	if d.o.Name != "" && d.o.Name != f.SysPath {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.slots[f.SysPath]; ok {
		return
	}
	dev, err := d.o.Open(f)
	if err != nil {
		d.o.Log.Warn("ccid reader cannot be opened", "reader", f.SysPath, "err", err)
		return
	}
	rctx, stop := context.WithCancel(ctx)
	r := NewReader(dev, f.Desc)
	if d.o.SlotCheck > 0 {
		r.SlotCheck = d.o.SlotCheck
	}
	s := &slot{path: f.SysPath, r: r, stop: stop}
	d.slots[f.SysPath] = s
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.watch(rctx, s)
		stop()
		s.use.Lock() // a Read in progress ends first
		_ = s.r.Close()
		s.use.Unlock()
		d.mu.Lock()
		delete(d.slots, f.SysPath)
		d.mu.Unlock()
		// Unplugged: tell the consumer, unless the whole monitor stops.
		if ctx.Err() == nil {
			d.send(ctx, reader.Event{Kind: reader.ReaderDetached, Reader: f.SysPath})
		}
	}()
}

// send delivers e unless ctx ends first; it reports whether it did.
func (d *device) send(ctx context.Context, e reader.Event) bool {
	d.o.Log.Info("ccid event", "event", e.Kind.String(), "reader", e.Reader, "mute", e.Mute)
	select {
	case d.events <- e:
		return true
	case <-ctx.Done():
		return false
	}
}

// watch follows one reader's slot until the reader goes or ctx ends. The
// slot's state changes before its event is sent, so a Read after the
// event sees the card the event is about.
func (d *device) watch(ctx context.Context, s *slot) {
	if !d.send(ctx, reader.Event{Kind: reader.ReaderAttached, Reader: s.path}) {
		return
	}
	present, err := s.r.CardPresent(ctx)
	for err == nil {
		if present && !d.send(ctx, d.powerOn(ctx, s)) {
			return
		}
		var now bool
		now, err = s.r.WaitCardChange(ctx, present)
		if err == nil && present && !now {
			s.set(false, nil)
			if !d.send(ctx, reader.Event{Kind: reader.CardRemoved, Reader: s.path}) {
				return
			}
		}
		present = now
	}
	if !errors.Is(err, reader.ErrReaderUnplugged) && ctx.Err() == nil {
		d.o.Log.Warn("ccid reader failed", "reader", s.path, "err", err)
	}
}

// powerOn powers the card just inserted and returns its CardInserted
// event: with the ATR, or Mute when the card gave none.
func (d *device) powerOn(ctx context.Context, s *slot) reader.Event {
	s.use.Lock()
	err := s.r.PowerOn(ctx)
	s.use.Unlock()
	s.set(true, err)
	e := reader.Event{Kind: reader.CardInserted, Reader: s.path, ATR: s.r.ATR()}
	if err != nil {
		d.o.Log.Warn("ccid card cannot be powered", "reader", s.path, "err", err)
	}
	if len(e.ATR) == 0 {
		e.ATR, e.Mute = nil, true
	}
	return e
}
