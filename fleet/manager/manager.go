package manager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
)

// Options configure a Manager. Zero values take the defaults noted.
type Options struct {
	// Broker is how fleetd reaches the broker: URL, user, password file,
	// CA (as a kiosk's, but with an operator user).
	Broker config.MQTT
	// Shards are more brokers reached with the same credentials: a fleet
	// spread over several brokers (one Mosquitto process holds at most as
	// many kiosks as it may open sockets). fleetd hears all of them and
	// sends each kiosk's commands through the one it was last heard on.
	Shards []string
	// Password is the broker password when there is no PasswordFile (the
	// embedded broker's own operator user).
	Password string
	// Subscribe, if set, receives the fleet's messages in-process (the
	// embedded broker's Subscribe) instead of through an MQTT
	// subscription; the MQTT client is then only used to send commands.
	Subscribe func(filter string, handle func(topic string, payload []byte)) error
	// Credentials gives kiosks their broker credentials (the embedded
	// broker). With Dynsec, the brokers' Dynamic Security plugin does.
	Credentials Credentials
	// Dynsec manages kiosk credentials in every broker through
	// Mosquitto's Dynamic Security plugin.
	Dynsec bool
	Store  *Store
	Signer fleet.Signer
	// Retention is how long events, health, commands and audit are kept
	// (default 30 days).
	Retention time.Duration
	// HistoryEvery is the minimum spacing of stored health samples per
	// kiosk (default 1 min).
	HistoryEvery time.Duration
	// HealthEvery is the health interval of a kiosk whose birth does not
	// say (default 30 s).
	HealthEvery time.Duration
	// OfflineAfter is how many health intervals a kiosk may miss before it
	// is offline and alerts (default 3).
	OfflineAfter int
	// Tick is how often liveness is evaluated (default 1 s).
	Tick time.Duration
	// IntakeRate and IntakeBurst bound the messages fleetd takes from one
	// kiosk (default 20/s, 400); more are dropped and counted. A broker
	// without rate limits (Mosquitto) then cannot flood fleetd's state.
	IntakeRate  float64
	IntakeBurst int
	Logger      *slog.Logger
	Now         func() time.Time
	// Location is where the console shows times (default Asia/Taipei),
	// Mail how notifications are e-mailed, PublicURL the console's address
	// in notifications (issue 19).
	Location  *time.Location
	Mail      MailOptions
	PublicURL string
}

// Credentials give one kiosk its own broker credential and take it back.
// Implementations: the embedded broker (broker.Broker) and Mosquitto's
// Dynamic Security plugin (broker.Dynsec). Both drop a connected session
// of the kiosk at once. Safe for concurrent use; each call may block on
// the network until ctx ends.
type Credentials interface {
	SetKiosk(ctx context.Context, k fleet.KioskRef, password string) error
	RevokeKiosk(ctx context.Context, k fleet.KioskRef) error
}

// hashLoader is a Credentials that fleetd must tell its enrolled kiosks at
// start (the embedded broker keeps no store of its own).
type hashLoader interface {
	LoadKioskHash(k fleet.KioskRef, hash [32]byte)
}

// Manager is fleetd's live state and history. Its methods are safe for
// concurrent use.
type Manager struct {
	opts    Options
	log     *slog.Logger
	store   *Store
	buses   []*bus
	creds   Credentials
	lv      liveness
	started time.Time
	in      *intake

	mu          sync.RWMutex
	kiosks      map[string]*Kiosk
	fleetAlerts []Alert
	dirty       map[string]struct{} // kiosks whose snapshot is not yet written

	writes  chan Op // history (events, health samples): dropped and counted when full
	flushed chan chan struct{}
	hub     *hub
	metrics metrics
	seq     atomic.Uint64
	ready   chan struct{}
	once    sync.Once
	ops     opsState // groups, jobs, central configuration, notifications, accounts (issue 19)
}

// New prepares a manager and loads its kiosks; Run connects it.
func New(opts Options) (*Manager, error) {
	setDefaults(&opts)
	m := &Manager{opts: opts, log: opts.Logger, store: opts.Store, kiosks: map[string]*Kiosk{}, dirty: map[string]struct{}{},
		writes: make(chan Op, 16384), flushed: make(chan chan struct{}), hub: newHub(), ready: make(chan struct{}),
		lv: liveness{every: opts.HealthEvery, missed: opts.OfflineAfter}, started: opts.Now()}
	m.metrics.init()
	m.in = newIntake(m)
	urls := append([]string{opts.Broker.BrokerURL}, opts.Shards...)
	for i, u := range urls {
		b, err := newBus(m, i, u)
		if err != nil {
			return nil, err
		}
		m.buses = append(m.buses, b)
	}
	m.creds = opts.Credentials
	if opts.Dynsec {
		m.creds = dynsecAll(m.buses)
	}
	if err := m.load(); err != nil {
		return nil, err
	}
	if err := m.loadOps(); err != nil {
		return nil, err
	}
	return m, nil
}

func setDefaults(o *Options) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Retention <= 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	if o.HistoryEvery <= 0 {
		o.HistoryEvery = time.Minute
	}
	if o.HealthEvery <= 0 {
		o.HealthEvery = 30 * time.Second
	}
	if o.OfflineAfter <= 0 {
		o.OfflineAfter = 3
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.IntakeRate <= 0 {
		o.IntakeRate = 20
	}
	if o.IntakeBurst <= 0 {
		o.IntakeBurst = 400
	}
}

// load reads kiosks (with their alerts), enrollments and fleet alerts: after
// a restart every kiosk is unknown until it speaks or its time runs out.
func (m *Manager) load() error {
	err := EachJSON(m.store, BucketKiosks, nil, func(_ []byte, k Kiosk) error {
		if k.Name != "" {
			k.Status, k.Health, k.Enrollment = StatusUnknown, nil, nil
			m.kiosks[k.Name] = &k
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load kiosks: %w", err)
	}
	loader, _ := m.creds.(hashLoader)
	err = EachJSON(m.store, BucketEnrollment, nil, func(key []byte, r enrollRecord) error {
		ref, err := fleet.ParseKioskRef(string(key))
		if err != nil {
			return nil
		}
		k := m.kioskLocked(ref)
		e := r.Enrollment
		k.Enrollment = &e
		if loader != nil && r.Revoked.IsZero() && len(r.Hash) == 32 {
			loader.LoadKioskHash(ref, [32]byte(r.Hash))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load enrollments: %w", err)
	}
	if _, err := m.store.Get(BucketMeta, []byte(metaFleetAlerts), &m.fleetAlerts); err != nil {
		return fmt.Errorf("load fleet alerts: %w", err)
	}
	return nil
}

const metaFleetAlerts = "fleet-alerts"

// kioskLocked returns kiosk ref's entry, creating it; m.mu must be held
// (or the manager not yet running).
func (m *Manager) kioskLocked(ref fleet.KioskRef) *Kiosk {
	name := ref.String()
	k := m.kiosks[name]
	if k == nil {
		k = &Kiosk{Ref: ref, Name: name, Status: StatusUnknown}
		m.kiosks[name] = k
	}
	return k
}

// Run connects to the broker(s) and keeps state until ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	m.in.start(ctx, &wg)
	if m.opts.Subscribe != nil {
		if err := m.opts.Subscribe(fleet.AllTopics, func(t string, p []byte) { m.in.submit(t, p, false, 0) }); err != nil {
			return err
		}
		m.once.Do(func() { close(m.ready) })
	}
	for _, b := range m.buses {
		b.client.Connect()
	}
	wg.Add(3)
	go func() { defer wg.Done(); m.writeLoop(ctx) }()
	go func() { defer wg.Done(); m.tickLoop(ctx) }()
	go func() { defer wg.Done(); m.opsLoop(ctx) }()
	<-ctx.Done()
	for _, b := range m.buses {
		b.client.Disconnect(250)
	}
	wg.Wait()
	return nil
}

// Ready is closed once the manager is subscribed to the fleet.
func (m *Manager) Ready() <-chan struct{} { return m.ready }

// markReady closes Ready once every bus has subscribed.
func (m *Manager) markReady() {
	for _, b := range m.buses {
		if !b.subscribed.Load() {
			return
		}
	}
	m.once.Do(func() { close(m.ready) })
}

// writeLoop writes, twice a second, every kiosk whose state changed (a set,
// so nothing is lost however many changes) and the queued history.
func (m *Manager) writeLoop(ctx context.Context) {
	tk := time.NewTicker(500 * time.Millisecond)
	defer tk.Stop()
	var batch []Op
	flush := func() {
	drain:
		for len(batch) < 20000 {
			select {
			case p := <-m.writes:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		batch = append(batch, m.takeDirty()...)
		if len(batch) == 0 {
			return
		}
		if err := m.store.Write(batch...); err != nil {
			m.log.Error("fleetd database write", "err", err, "records", len(batch))
		}
		m.metrics.dbWrites.Add(uint64(len(batch)))
		clear(batch)
		batch = batch[:0]
	}
	for {
		select {
		case <-ctx.Done():
			flush()
			flush()
			return
		case done := <-m.flushed:
			flush()
			close(done)
		case <-tk.C:
			flush()
		}
	}
}

// takeDirty returns the writes of every changed kiosk's snapshot.
func (m *Manager) takeDirty() []Op {
	m.mu.Lock()
	defer m.mu.Unlock()
	ops := make([]Op, 0, len(m.dirty))
	for name := range m.dirty {
		if k := m.kiosks[name]; k != nil {
			ops = append(ops, Put(BucketKiosks, []byte(name), k.snapshot()))
		}
	}
	clear(m.dirty)
	return ops
}

// snapshot is what is stored of k: everything but its health (health
// samples have their own bucket) and its enrollment (its own record).
func (k *Kiosk) snapshot() Kiosk {
	s := *k
	s.Health, s.Enrollment = nil, nil
	s.Alerts = append([]Alert(nil), k.Alerts...)
	return s
}

// Flush writes everything pending now (tests, and before a planned stop).
func (m *Manager) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case m.flushed <- done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pending is the number of records not yet written.
func (m *Manager) Pending() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.dirty) + len(m.writes)
}

// history queues a history record; when the queue is full it is dropped
// and counted.
func (m *Manager) history(b Bucket, key []byte, v any) {
	select {
	case m.writes <- Put(b, key, v):
	default:
		m.metrics.dbDropped.Add(1)
	}
}

// tickLoop re-evaluates liveness and time-based alerts, and prunes history.
func (m *Manager) tickLoop(ctx context.Context) {
	tk := time.NewTicker(m.opts.Tick)
	defer tk.Stop()
	lastPrune := m.opts.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		now := m.opts.Now()
		m.evaluateAll(now)
		m.brokerAlertAtStart(now)
		if now.Sub(lastPrune) > time.Hour {
			lastPrune = now
			if n, err := m.store.Prune(now.Add(-m.opts.Retention)); err != nil {
				m.log.Error("fleetd prune", "err", err)
			} else if n > 0 {
				m.log.Info("fleetd pruned history", "records", n)
			}
		}
	}
}

// brokerAlertAtStart raises the broker alert for a broker fleetd has not
// reached since it started (a lost connection raises it at once).
func (m *Manager) brokerAlertAtStart(now time.Time) {
	if now.Sub(m.started) < 15*time.Second || m.BrokersUp() {
		return
	}
	m.mu.RLock()
	raised := m.fleetAlert(AlertBrokerDown) != nil
	m.mu.RUnlock()
	if !raised {
		m.busChanged(now)
	}
}

// evaluateAll re-evaluates every kiosk and tells the dashboards.
func (m *Manager) evaluateAll(now time.Time) {
	type changed struct {
		name string
		c    change
	}
	var out []changed
	m.mu.Lock()
	for name, k := range m.kiosks {
		alerts := k.alertBits()
		if k.evaluate(now, m.hearingLocked(k), m.lv) {
			m.dirty[name] = struct{}{}
			c := changeView
			if k.alertBits() != alerts {
				c |= changeAlerts
			}
			out = append(out, changed{name, c})
		}
	}
	m.mu.Unlock()
	for _, c := range out {
		m.hub.publish(c.name, c.c)
	}
}

// hearingLocked is whether fleetd can hear kiosk k now: through the broker
// it was last heard on, or, not knowing it, through all of them.
func (m *Manager) hearingLocked(k *Kiosk) hearing {
	if k.via > 0 && k.via <= len(m.buses) {
		return m.buses[k.via-1].hearing()
	}
	h := hearing{up: true, since: m.started}
	for _, b := range m.buses {
		bh := b.hearing()
		h.up = h.up && bh.up
		h.since = later(h.since, bh.since)
	}
	return h
}

func newID() fleet.Token {
	b := make([]byte, 8)
	rand.Read(b)
	return fleet.Token(time.Now().UTC().Format("20060102t150405") + "-" + hex.EncodeToString(b))
}

// errUnknownKiosk is returned for a kiosk fleetd does not know.
var errUnknownKiosk = fmt.Errorf("unknown kiosk")
