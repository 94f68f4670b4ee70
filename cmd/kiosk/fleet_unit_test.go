package main

import (
	"bytes"
	"context"
	"errors"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display/headless"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// fakeKiosk is the wizard as the fleet side sees it.
type fakeKiosk struct {
	mu     sync.Mutex
	status appliance.Status
	posted []appliance.Event
}

func (f *fakeKiosk) Post(ev appliance.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posted = append(f.posted, ev)
}

func (f *fakeKiosk) Query(_ context.Context, fn func(appliance.Status)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.status)
	return nil
}

// fakeProbe answers Terms with err.
type fakeProbe struct{ err error }

func (p fakeProbe) Terms(context.Context) (upstream.Terms, error) { return upstream.Terms{}, p.err }

// fakeSink records events.
type fakeSink struct {
	mu     sync.Mutex
	events []fleet.Event
}

func (s *fakeSink) Event(kind fleet.EventKind, f fleet.EventFields) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, fleet.Event{V: fleet.SchemaVersion, Kind: kind, EventFields: f})
}

func (s *fakeSink) Stats() fleet.Stats { return fleet.Stats{} }

func (s *fakeSink) kinds() []fleet.EventKind {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ks []fleet.EventKind
	for _, e := range s.events {
		ks = append(ks, e.Kind)
	}
	return ks
}

// testFleet is a kioskFleet on fakes, its machine files in a temp dir.
func testFleet(t *testing.T) (*kioskFleet, *fakeKiosk, *fakeSink, func() []error) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := config.Demo()
	cfg.DataDir = filepath.Join(dir, "data")
	os.MkdirAll(cfg.DataDir, 0o700)
	cfg.Display.Backend = config.DisplayHeadless
	k, sink := &fakeKiosk{}, &fakeSink{}
	var restarts []error
	var mu sync.Mutex
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	kf := &kioskFleet{cfg: cfg, o: options{demo: true}, k: k, screen: newRecScreen(headless.New(image.Pt(80, 48)), slog.New(slog.DiscardHandler)),
		probe: fakeProbe{}, paths: sysPaths{
			Thermal: write("temp", "51250\n"),
			LoadAvg: write("loadavg", "0.75 0.5 0.25 1/100 42\n"),
			MemInfo: write("meminfo", "MemTotal: 2000 kB\nMemAvailable: 500 kB\n"),
		},
		now: func() time.Time { return now }, booted: now.Add(-90 * time.Second),
		log: slog.New(slog.DiscardHandler), sink: sink,
		restart:   func(why error) { mu.Lock(); restarts = append(restarts, why); mu.Unlock() },
		onGokrazy: func() bool { return false }, reboot: func() error { return errors.New("must not reboot") },
	}
	return kf, k, sink, func() []error { mu.Lock(); defer mu.Unlock(); return append([]error(nil), restarts...) }
}

// checkPrivate fails when v's JSON does not pass the fleet schema's
// checks or carries the test person's data.
func checkPrivate(t *testing.T, b []byte) {
	t.Helper()
	for _, pii := range []string{"A123456789", "測試一", "TEST ONE"} {
		if bytes.Contains(b, []byte(pii)) {
			t.Fatalf("payload carries personal data %q: %s", pii, b)
		}
	}
}

func TestFleetHealth(t *testing.T) {
	kf, k, sink, _ := testFleet(t)
	kf.observeReader(reader.Event{Kind: reader.ReaderAttached, Reader: "ACS ACR39U ICC Reader 00 00"})
	k.status.Counts = appliance.SessionCounts{Started: 4, Completed: 2,
		Aborted: map[string]uint64{"idle_timeout": 1, "something_new": 1}}
	kf.gather(t.Context())
	kf.countError(fleet.ErrKindCard)
	h := kf.health()
	h.V = fleet.SchemaVersion
	if err := h.Validate(); err != nil {
		t.Fatalf("health does not validate: %v (%+v)", err, h)
	}
	if h.UptimeS != 90 || h.CPUTempC == nil || *h.CPUTempC != 51.25 || h.Load1 != 0.75 || h.MemUsedPct != 75 {
		t.Errorf("machine health = uptime %d temp %v load %v mem %v", h.UptimeS, h.CPUTempC, h.Load1, h.MemUsedPct)
	}
	if h.PermFreeBytes == 0 || h.PermFreePct <= 0 {
		t.Errorf("free space = %d bytes, %v%%", h.PermFreeBytes, h.PermFreePct)
	}
	if !h.Reader.Present || h.Reader.Name != "ACS-ACR39U-ICC-Reader-00-00" || h.Display != "headless" || !h.Upstream.Reachable {
		t.Errorf("parts = reader %+v display %q upstream %+v", h.Reader, h.Display, h.Upstream)
	}
	want := fleet.Sessions{Started: 4, Completed: 2, Aborted: map[fleet.AbortReason]uint64{fleet.AbortIdle: 1, fleet.AbortCancelled: 1}}
	if h.Sessions.Started != want.Started || h.Sessions.Completed != 2 || len(h.Sessions.Aborted) != 2 ||
		h.Sessions.Aborted[fleet.AbortIdle] != 1 || h.Sessions.Aborted[fleet.AbortCancelled] != 1 {
		t.Errorf("sessions = %+v, want %+v", h.Sessions, want)
	}
	if h.Errors[fleet.ErrKindCard] != 1 {
		t.Errorf("errors = %v", h.Errors)
	}
	kf.observeReader(reader.Event{Kind: reader.ReaderDetached, Reader: "ACS ACR39U ICC Reader 00 00"})
	kf.observeReader(reader.Event{Kind: reader.ReaderAttached, Reader: "ACS ACR39U ICC Reader 00 00"})
	if got := sink.kinds(); len(got) != 2 || got[0] != fleet.EvReaderUnplugged || got[1] != fleet.EvReaderReplugged {
		t.Errorf("events = %v, want unplugged then replugged", got)
	}
	kf.probe = fakeProbe{err: errors.New("down")}
	kf.gather(t.Context())
	if h := kf.health(); h.Upstream.Reachable || h.Errors[fleet.ErrKindUpstream] != 1 {
		t.Errorf("upstream down: %+v, errors %v", h.Upstream, h.Errors)
	}
}

// TestFleetHealthNoMachineFiles: missing /sys and /proc files leave their
// fields unknown, not a failure.
func TestFleetHealthNoMachineFiles(t *testing.T) {
	kf, _, _, _ := testFleet(t)
	kf.paths = sysPaths{Thermal: "/nonexistent/temp", LoadAvg: "/nonexistent/l", MemInfo: "/nonexistent/m"}
	h := kf.health()
	if h.CPUTempC != nil || h.Load1 != 0 || h.MemUsedPct != 0 {
		t.Fatalf("health without files = %+v", h)
	}
}

func TestReaderToken(t *testing.T) {
	for in, want := range map[string]fleet.Token{
		"ACS ACR39U ICC Reader 00 00": "ACS-ACR39U-ICC-Reader-00-00",
		"/dev/bus/usb/001/004":        "/dev/bus/usb/001/004",
		"讀卡機":                         "---------",
		"Reader A123456789":           "",
		strings.Repeat("x", 100):      fleet.Token(strings.Repeat("x", 64)),
	} {
		if got := readerToken(in); got != want || !got.Valid() {
			t.Errorf("readerToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCardErrorKind(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want fleet.CardErrorKind
		ok   bool
	}{
		{nil, "", false},
		{reader.ErrNoCard, "", false},
		{context.Canceled, "", false},
		{reader.ErrCardMute, fleet.CardUnreadable, true},
		{reader.ErrGarbledProfile, fleet.CardUnreadable, true},
		{reader.ErrNotNHICard, fleet.CardNotNHI, true},
		{reader.ErrCardRemoved, fleet.CardRemoved, true},
		{errors.New("APDU 6F00"), fleet.CardProtocol, true},
	} {
		got, ok := cardErrorKind(tc.err)
		if got != tc.want || ok != tc.ok {
			t.Errorf("cardErrorKind(%v) = %q, %v; want %q, %v", tc.err, got, ok, tc.want, tc.ok)
		}
	}
}

// TestTapReaderReportsCardErrors: a failed read becomes a card_error event
// with its kind, never the error's text.
func TestTapReaderReportsCardErrors(t *testing.T) {
	kf, _, sink, _ := testFleet(t)
	tap := tapReader{Device: failingReader{reader.ErrNotNHICard}, kf: kf}
	if _, err := tap.Read(t.Context()); !errors.Is(err, reader.ErrNotNHICard) {
		t.Fatalf("Read = %v", err)
	}
	if len(sink.events) != 1 || sink.events[0].Kind != fleet.EvCardError || sink.events[0].CardError != fleet.CardNotNHI {
		t.Fatalf("events = %+v", sink.events)
	}
	if err := sink.events[0].Validate(); err != nil {
		t.Fatal(err)
	}
}

type failingReader struct{ err error }

func (failingReader) Run(context.Context) error   { return nil }
func (failingReader) Events() <-chan reader.Event { return nil }
func (r failingReader) Read(context.Context) (reader.Profile, error) {
	return reader.Profile{}, r.err
}

func TestOutboxStuck(t *testing.T) {
	kf, _, sink, _ := testFleet(t)
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	kf.now = func() time.Time { return now }
	kf.watchOutbox(3)
	now = now.Add(outboxStuckFor - time.Second)
	kf.watchOutbox(4)
	if len(sink.kinds()) != 0 {
		t.Fatalf("stuck too early: %v", sink.kinds())
	}
	now = now.Add(2 * time.Second)
	kf.watchOutbox(4)
	kf.watchOutbox(4)
	if got := sink.kinds(); len(got) != 1 || got[0] != fleet.EvOutboxStuck || sink.events[0].Count != 4 {
		t.Fatalf("events = %+v, want one outbox_stuck of 4", sink.events)
	}
	if h := kf.health(); h.Outbox.Depth != 4 || h.Outbox.OldestAgeS < int64(outboxStuckFor.Seconds()) {
		t.Fatalf("outbox health = %+v", h.Outbox)
	}
	kf.watchOutbox(2) // moving again: a new stall may be reported later
	if kf.outStuck {
		t.Fatal("still stuck after the outbox shrank")
	}
}

func (r failingReader) Authenticate(context.Context, reader.Exchange) error { return r.err }

// TestOutboxDeadLetters: a registration the upstream refused shows in
// health and is raised as an event with the count only (issue 13): at
// the first reading, and whenever there is one more.
func TestOutboxDeadLetters(t *testing.T) {
	kf, _, sink, _ := testFleet(t)
	dir := t.TempDir()
	id, _ := age.GenerateX25519Identity()
	ob, err := upstream.OpenOutbox(dir, id.Recipient().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	kf.outbox = ob
	refuse := func(context.Context, string, []byte) error {
		return &upstream.Error{Status: 409, Code: upstream.ErrCodeTermsChanged}
	}
	if err := ob.Enqueue(upstream.NewIdempotencyKey(), []byte(`{"name":"測試一"}`)); err != nil {
		t.Fatal(err)
	}
	if err := ob.Flush(context.Background(), refuse); err != nil {
		t.Fatal(err)
	}
	kf.gather(context.Background())
	kf.gather(context.Background()) // no new dead letter: no new event
	if got := sink.kinds(); len(got) != 1 || got[0] != fleet.EvOutboxDeadLetter || sink.events[0].Count != 1 {
		t.Fatalf("events = %+v, want one outbox_dead_letter of 1", sink.events)
	}
	if err := ob.Enqueue(upstream.NewIdempotencyKey(), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	ob.Flush(context.Background(), refuse)
	os.Mkdir(filepath.Join(dir, "00000000000000000001-x.age"), 0o700)
	ob.Flush(context.Background(), refuse)
	kf.gather(context.Background())
	h := kf.health()
	if h.Outbox.DeadLetters != 2 || h.Outbox.SetAside != 1 || len(sink.events) != 2 || sink.events[1].Count != 2 {
		t.Fatalf("health %+v, events %+v; want 2 dead letters, 1 set aside, a second event", h.Outbox, sink.events)
	}
	h.V = fleet.SchemaVersion // the agent adds it
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, e := range sink.events {
		if err := (fleet.Event{V: fleet.SchemaVersion, Kind: e.Kind, EventFields: e.EventFields}).Validate(); err != nil {
			t.Fatal(err)
		}
	}
}
