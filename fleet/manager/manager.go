package manager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
)

// Options configure a Manager.
type Options struct {
	// Broker is how fleetd reaches the broker: URL, user, password file,
	// CA (as a kiosk's, but with an operator user).
	Broker config.MQTT
	// Password is the broker password when there is no PasswordFile (the
	// embedded broker's own operator user).
	Password string
	Store    *Store
	Signer   fleet.Signer
	// Retention is how long events, health, commands and audit are kept.
	Retention time.Duration
	// HistoryEvery is the minimum spacing of stored health samples per kiosk.
	HistoryEvery time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
	// Subscribe, if set, receives the fleet's messages in-process (the
	// embedded broker's Subscribe) instead of through an MQTT
	// subscription; the MQTT client is then only used to send commands.
	Subscribe func(filter string, handle func(topic string, payload []byte)) error
}

// Manager is fleetd's live state and history. Its methods are safe for
// concurrent use.
type Manager struct {
	opts    Options
	log     *slog.Logger
	store   *Store
	client  mqtt.Client
	mu      sync.RWMutex
	kiosks  map[string]*Kiosk
	lastHS  map[string]time.Time // last stored health sample
	writes  chan put
	hub     *hub
	metrics metrics
	seq     atomic.Uint64
	ready   chan struct{}
	once    sync.Once
}

// New prepares a manager; Run connects it.
func New(opts Options) (*Manager, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Retention <= 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	if opts.HistoryEvery <= 0 {
		opts.HistoryEvery = time.Minute
	}
	m := &Manager{opts: opts, log: opts.Logger, store: opts.Store, kiosks: map[string]*Kiosk{},
		lastHS: map[string]time.Time{}, writes: make(chan put, 65536), hub: newHub(), ready: make(chan struct{})}
	m.metrics.init()
	if err := m.loadKiosks(); err != nil {
		return nil, err
	}
	co, err := m.clientOptions()
	if err != nil {
		return nil, err
	}
	m.client = mqtt.NewClient(co)
	return m, nil
}

func (m *Manager) clientOptions() (*mqtt.ClientOptions, error) {
	b := m.opts.Broker
	id := make([]byte, 6)
	rand.Read(id)
	co := mqtt.NewClientOptions().AddBroker(b.BrokerURL).SetClientID("fleetd-" + hex.EncodeToString(id)).
		SetUsername(b.Username).SetPassword(m.opts.Password).SetCleanSession(true).
		// One goroutine applies messages in order: a goroutine per message
		// would pile up by the thousand under a large fleet.
		SetOrderMatters(true).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(2 * time.Second).
		SetMaxReconnectInterval(30 * time.Second).SetConnectTimeout(10 * time.Second).
		SetMessageChannelDepth(65536).
		SetOnConnectHandler(m.onConnect).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { m.log.Warn("fleetd broker connection lost", "err", err) })
	if b.PasswordFile != "" {
		pw, err := readSecret(b.PasswordFile)
		if err != nil {
			return nil, err
		}
		co.SetPassword(pw)
	}
	tc, err := fleet.TLSConfigFor(b)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		co.SetTLSConfig(tc)
	}
	return co, nil
}

func (m *Manager) loadKiosks() error {
	return m.store.db.View(func(tx *boltTx) error {
		return tx.Bucket(bKiosks).ForEach(func(_, v []byte) error {
			var k Kiosk
			if json.Unmarshal(v, &k) == nil && k.Name != "" {
				k.Alerts = nil
				m.kiosks[k.Name] = &k
			}
			return nil
		})
	})
}

// Run connects to the broker and keeps state until ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	if m.opts.Subscribe != nil {
		if err := m.opts.Subscribe(fleet.AllTopics, m.handle); err != nil {
			return err
		}
		m.once.Do(func() { close(m.ready) })
	}
	m.client.Connect()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); m.writeLoop(ctx) }()
	go func() { defer wg.Done(); m.tickLoop(ctx) }()
	<-ctx.Done()
	m.client.Disconnect(250)
	wg.Wait()
	return nil
}

// Ready is closed once the manager is subscribed to the fleet.
func (m *Manager) Ready() <-chan struct{} { return m.ready }

func (m *Manager) onConnect(c mqtt.Client) {
	if m.opts.Subscribe != nil {
		return
	}
	t := c.Subscribe(fleet.AllTopics, 1, m.onMessage)
	if t.WaitTimeout(10*time.Second) && t.Error() != nil {
		m.log.Error("fleetd subscribe", "err", t.Error())
		return
	}
	m.log.Info("fleetd subscribed", "broker", m.opts.Broker.BrokerURL)
	m.once.Do(func() { close(m.ready) })
}

// writeLoop batches history writes: one transaction per half second.
func (m *Manager) writeLoop(ctx context.Context) {
	tk := time.NewTicker(500 * time.Millisecond)
	defer tk.Stop()
	var batch []put
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := m.store.Batch(batch); err != nil {
			m.log.Error("fleetd history write", "err", err, "records", len(batch))
		}
		m.metrics.dbWrites.Add(uint64(len(batch)))
		batch = batch[:0]
	}
	for {
		select {
		case <-ctx.Done():
			for len(m.writes) > 0 {
				batch = append(batch, <-m.writes)
			}
			flush()
			return
		case p := <-m.writes:
			batch = append(batch, p)
			if len(batch) >= 5000 {
				flush()
			}
		case <-tk.C:
			flush()
		}
	}
}

func (m *Manager) write(bucket, key []byte, v any) {
	select {
	case m.writes <- put{bucket, key, v}:
	default:
		m.metrics.dbDropped.Add(1)
	}
}

// tickLoop re-evaluates time-based alerts and prunes history.
func (m *Manager) tickLoop(ctx context.Context) {
	tk := time.NewTicker(5 * time.Second)
	defer tk.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		now := m.opts.Now()
		m.mu.Lock()
		for _, k := range m.kiosks {
			if k.evaluate(now) {
				m.hub.publish(k.Name)
			}
		}
		m.mu.Unlock()
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

func newID() fleet.Token {
	b := make([]byte, 8)
	rand.Read(b)
	return fleet.Token(time.Now().UTC().Format("20060102t150405") + "-" + hex.EncodeToString(b))
}

// Errors for callers.
var errUnknownKiosk = fmt.Errorf("unknown kiosk")
