package pcsc

import (
	"bytes"

	"github.com/nhikiosk/nhikiosk/reader"
)

// State bits of SCARD_READERSTATE's dwEventState (pcsclite.h). They are
// repeated here, checked against scard's in a test, so the event logic
// builds and is tested without cgo.
const (
	stateChanged     = 0x0002
	stateUnknown     = 0x0004
	stateUnavailable = 0x0008
	stateEmpty       = 0x0010
	statePresent     = 0x0020
	stateMute        = 0x0200

	// flagsMask keeps the state bits: pcscd puts an event counter (cards
	// inserted and removed so far) in the upper 16 bits.
	flagsMask = 0xFFFF
)

// pnpReader is the pseudo-reader whose state changes when a reader is
// attached or detached.
const pnpReader = `\\?PnP?\Notification`

func present(s uint32) bool   { return s&flagsMask&statePresent != 0 }
func mute(s uint32) bool      { return s&flagsMask&stateMute != 0 }
func gone(s uint32) bool      { return s&flagsMask&(stateUnknown|stateUnavailable) != 0 }
func counter(s uint32) uint32 { return s >> 16 }

// swapped reports whether the event counter moved between two looks at a
// reader. A counter of 0 says nothing: it is the unaware state, the
// counter's wrap-around, and what pcscd 1.9.9 now and then reports for a
// card that stayed put (seen under load while the card was in use); taking
// it for a swap would invent a removal.
func swapped(old, now uint32) bool {
	return counter(old) != 0 && counter(now) != 0 && counter(old) != counter(now)
}

// cardEvents turns one reader's state before (old; 0 when unaware) and
// after (now) a status change into card events. A card that was taken out
// and put back between two looks shows only as a changed event counter:
// that is a removal followed by an insertion.
func cardEvents(name string, old, now uint32, atr []byte) []reader.Event {
	inserted := reader.Event{Kind: reader.CardInserted, Reader: name, ATR: bytes.Clone(atr), Mute: mute(now)}
	if inserted.Mute {
		inserted.ATR = nil
	}
	removed := reader.Event{Kind: reader.CardRemoved, Reader: name}
	switch {
	case !present(old) && present(now):
		return []reader.Event{inserted}
	case present(old) && !present(now):
		return []reader.Event{removed}
	case present(old) && present(now) && swapped(old, now):
		return []reader.Event{removed, inserted}
	}
	return nil
}

// readerEvents compares the reader lists before and after a change. For a
// reader that went away with a card in it (hadCard), CardRemoved comes
// before ReaderDetached.
func readerEvents(before, after []string, hadCard func(string) bool) []reader.Event {
	var evs []reader.Event
	in := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	for _, r := range before {
		if !in(after, r) {
			if hadCard(r) {
				evs = append(evs, reader.Event{Kind: reader.CardRemoved, Reader: r})
			}
			evs = append(evs, reader.Event{Kind: reader.ReaderDetached, Reader: r})
		}
	}
	for _, r := range after {
		if !in(before, r) {
			evs = append(evs, reader.Event{Kind: reader.ReaderAttached, Reader: r})
		}
	}
	return evs
}

// filter keeps the readers opts selects, never the PnP pseudo-reader.
func (o Options) filter(readers []string) []string {
	var out []string
	for _, r := range readers {
		if r != pnpReader && (o.Reader == "" || r == o.Reader) {
			out = append(out, r)
		}
	}
	return out
}

// snapshot is what pcscd last said about every reader: its names in
// pcscd's order, and per reader the state flags (with the event counter)
// and the card's ATR.
type snapshot struct {
	readers []string
	states  map[string]uint32
	atrs    map[string][]byte
}

// view is one watcher's picture of the readers it watches. Each watcher
// diffs every snapshot against its own picture, so a watcher that starts
// late first sees the present state, and nothing is reported twice.
type view struct {
	opts    Options
	readers []string
	states  map[string]uint32
}

// update turns a new snapshot into the events this watcher has not seen:
// readers that went (with their card) and came, then cards in and out. A
// reader pcscd reports UNKNOWN or UNAVAILABLE is on its way out: it keeps
// its last state until the next listing drops it.
func (v *view) update(s snapshot) []reader.Event {
	names := v.opts.filter(s.readers)
	evs := readerEvents(v.readers, names, func(r string) bool { return present(v.states[r]) })
	states := make(map[string]uint32, len(names))
	for _, n := range names {
		old, now := v.states[n], s.states[n]
		if gone(now) {
			now = old
		}
		evs = append(evs, cardEvents(n, old, now, s.atrs[n])...)
		states[n] = now
	}
	v.readers, v.states = names, states
	return evs
}
