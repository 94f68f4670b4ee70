package readertest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
)

func next(t *testing.T, ch <-chan reader.Event) reader.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("events closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return reader.Event{}
}

func TestDeviceEvents(t *testing.T) {
	d := readertest.NewDevice("virtual")
	card, err := readertest.NewCard(readertest.TestOne)
	if err != nil {
		t.Fatal(err)
	}
	// Before Run: queued, not lost.
	if err := d.Insert(card); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()

	want := func(kind reader.EventKind, mute bool) {
		t.Helper()
		ev := next(t, d.Events())
		if ev.Kind != kind || ev.Reader != "virtual" || ev.Mute != mute {
			t.Errorf("event %v, want %v (mute %v) on virtual", ev, kind, mute)
		}
	}
	want(reader.ReaderAttached, false)
	want(reader.CardInserted, false)
	d.Remove()
	want(reader.CardRemoved, false)
	if err := d.Insert(&readertest.Card{Kind: readertest.Mute}); err != nil {
		t.Fatal(err)
	}
	want(reader.CardInserted, true)
	d.Detach()
	want(reader.CardRemoved, false)
	want(reader.ReaderDetached, false)
	if err := d.Insert(card); !errors.Is(err, reader.ErrNoReader) {
		t.Errorf("Insert into a detached reader = %v, want ErrNoReader", err)
	}
	d.Attach()
	want(reader.ReaderAttached, false)

	// A card pulled mid-read reports its removal as an event too.
	pulled, err := readertest.NewCard(readertest.TestOne)
	if err != nil {
		t.Fatal(err)
	}
	pulled.PullOn = 0xCA
	if err := d.Insert(pulled); err != nil {
		t.Fatal(err)
	}
	want(reader.CardInserted, false)
	if _, err := d.Read(ctx); !errors.Is(err, reader.ErrCardRemoved) {
		t.Errorf("Read of a pulled card = %v, want ErrCardRemoved", err)
	}
	want(reader.CardRemoved, false)

	cancel()
	if err := <-runErr; err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
	if _, ok := <-d.Events(); ok {
		t.Error("Events not closed after Run returned")
	}
}

func TestPersonEncodeRejects(t *testing.T) {
	for name, p := range map[string]readertest.Person{
		"name too long":   {CardNumber: "000012345678", IDNumber: "A123456789", Name: "測試一二三四五六七八九十"},
		"not Big5":        {CardNumber: "000012345678", IDNumber: "A123456789", Name: "😀"},
		"short card no.":  {CardNumber: "1234", IDNumber: "A123456789", Name: "測"},
		"date before ROC": {CardNumber: "000012345678", IDNumber: "A123456789", Name: "測", BirthDate: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := p.Encode(); err == nil {
			t.Errorf("%s: Encode succeeded", name)
		}
	}
}
