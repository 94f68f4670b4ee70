package fleet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/nhikiosk/nhikiosk/config"
)

// Identity is what the kiosk says about itself in its birth message.
type Identity struct {
	Kiosk      KioskRef
	Version    Token // software version
	Image      Token // gokrazy image build id
	BootTime   time.Time
	ConfigHash Token // hash of the effective configuration
}

// HealthFunc returns the appliance's current health. It is called from the
// agent's own goroutine every health interval and must return quickly; the
// agent fills in V, TS and TelemetryDropped.
type HealthFunc func() Health

// CommandHandler is what the appliance does on operator commands. The
// agent calls one method at a time, from its own goroutine, with a context
// that times out after Options.CommandTimeout. Returning ErrSessionActive,
// ErrInvalidConfig or ErrUnsupported (or an error wrapping them) refuses
// the command with that reason; any other error reports a failure.
type CommandHandler interface {
	// Reboot and Restart are acknowledged first, then called: they return
	// once the reboot or restart is under way.
	Reboot(ctx context.Context) error
	Restart(ctx context.Context) error
	// SetMaintenance turns maintenance on or off; with on, the kiosk shows
	// its out-of-service screen once the current session ends.
	SetMaintenance(ctx context.Context, on bool) error
	// SetLanguage sets the attract screen's default language.
	SetLanguage(ctx context.Context, lang string) error
	// ReloadConfig loads and validates the configuration again; an invalid
	// one is refused with ErrInvalidConfig and the old one is kept.
	ReloadConfig(ctx context.Context) error
	// SelfTest checks reader, display, upstream and disk.
	SelfTest(ctx context.Context) (SelfTest, error)
	// Screenshot returns the screen as PNG, or ErrSessionActive while a
	// person is in a session.
	Screenshot(ctx context.Context) ([]byte, error)
}

// Options tune an Agent. Zero values take the defaults noted.
type Options struct {
	Health  HealthFunc     // required
	Handler CommandHandler // required
	Logger  *slog.Logger   // default slog.Default()
	// QueueSize bounds the events and acks waiting to be sent, also while
	// the broker is unreachable (default 512).
	QueueSize int
	// StateDir, if set, keeps the ids of accepted commands across restarts
	// (so a replay after a restart is still refused).
	StateDir string
	// CommandTimeout bounds one CommandHandler call (default 60 s).
	CommandTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ConnectTimeout bounds one connection attempt (default 10 s).
	ConnectTimeout time.Duration
	// MaxReconnectInterval caps the reconnect backoff (default 2 min).
	MaxReconnectInterval time.Duration
}

// Stats are the agent's counters.
type Stats struct {
	Published uint64 // messages the broker accepted
	Dropped   uint64 // events, acks or health dropped because the queue was full
	Rejected  uint64 // commands refused as forged, expired, replayed or malformed
	Queued    int    // now waiting to be sent
}

// Agent is the kiosk's fleet agent. Event, SetMaintenance and Stats are
// safe to call from any goroutine at any time, before, during and after
// Run, and never block.
type Agent struct {
	id       Identity
	cfg      config.MQTT
	opts     Options
	log      *slog.Logger
	keys     Keyring
	client   mqtt.Client
	out      chan outMsg
	cmds     chan mqtt.Message
	seen     *seenIDs
	seq      atomic.Uint64
	maint    atomic.Bool
	pub      atomic.Uint64
	dropped  atomic.Uint64
	rejected atomic.Uint64
	mu       sync.Mutex
	health   Health // last published, for tests and SelfTest callers
	cfgHash  Token  // Identity.ConfigHash, or what SetConfigHash set (under mu)
}

type outMsg struct {
	topic    string
	payload  []byte
	qos      byte
	retained bool
}

// NewAgent prepares an agent for broker cfg; it reads the password,
// operator keys and TLS files cfg names but does not connect.
func NewAgent(cfg config.MQTT, id Identity, opts Options) (*Agent, error) {
	if opts.Health == nil || opts.Handler == nil {
		return nil, errors.New("new fleet agent: Options.Health and Options.Handler are required")
	}
	if !ValidName(id.Kiosk.Site) || !ValidName(id.Kiosk.Kiosk) {
		return nil, fmt.Errorf("new fleet agent: invalid kiosk %q", id.Kiosk)
	}
	setDefaults(&opts)
	kb, err := os.ReadFile(cfg.OperatorKeysFile)
	if err != nil {
		return nil, fmt.Errorf("new fleet agent: read operator keys: %w", err)
	}
	keys, err := ParseKeyring(kb)
	if err != nil {
		return nil, fmt.Errorf("new fleet agent: %w", err)
	}
	a := &Agent{id: id, cfgHash: id.ConfigHash, cfg: cfg, opts: opts, log: opts.Logger.With("kiosk", id.Kiosk.String()), keys: keys,
		out: make(chan outMsg, opts.QueueSize), cmds: make(chan mqtt.Message, 16)}
	if a.seen, err = loadSeen(opts.StateDir); err != nil {
		return nil, fmt.Errorf("new fleet agent: %w", err)
	}
	co, err := a.clientOptions()
	if err != nil {
		return nil, fmt.Errorf("new fleet agent: %w", err)
	}
	a.client = mqtt.NewClient(co)
	return a, nil
}

func setDefaults(o *Options) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 512
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.MaxReconnectInterval <= 0 {
		o.MaxReconnectInterval = 2 * time.Minute
	}
}

func (a *Agent) clientOptions() (*mqtt.ClientOptions, error) {
	will, _ := json.Marshal(State{V: SchemaVersion, State: Offline, Will: true})
	co := mqtt.NewClientOptions().AddBroker(a.cfg.BrokerURL).
		SetClientID(a.id.Kiosk.ClientID()).
		SetUsername(a.cfg.Username).
		SetCleanSession(true).
		SetOrderMatters(false).
		SetKeepAlive(30*time.Second).
		SetPingTimeout(10*time.Second).
		SetConnectTimeout(a.opts.ConnectTimeout).
		SetWriteTimeout(10*time.Second).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(2*time.Second).
		SetMaxReconnectInterval(a.opts.MaxReconnectInterval).
		SetBinaryWill(Topic(a.id.Kiosk, ChanState), will, 1, true).
		SetOnConnectHandler(a.onConnect).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			a.log.Warn("fleet broker connection lost", "err", err)
		})
	if a.cfg.PasswordFile != "" {
		pw, err := os.ReadFile(a.cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("read broker password: %w", err)
		}
		co.SetPassword(strings.TrimSpace(string(pw)))
	}
	tc, err := TLSConfigFor(a.cfg)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		co.SetTLSConfig(tc)
	}
	return co, nil
}

// TLSConfigFor is the TLS configuration for broker settings cfg: its CA and
// client certificate; nil when cfg names neither (system roots apply).
func TLSConfigFor(cfg config.MQTT) (*tls.Config, error) {
	if cfg.CAFile == "" && cfg.ClientCertFile == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read broker CA: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read broker CA %s: no PEM certificate", cfg.CAFile)
		}
	}
	if cfg.ClientCertFile != "" {
		c, err := tls.LoadX509KeyPair(cfg.ClientCertFile, cfg.ClientKeyFile)
		if err != nil {
			return nil, fmt.Errorf("load broker client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{c}
	}
	return tc, nil
}

// Run connects (retrying with backoff until ctx ends), publishes the
// kiosk's birth, health every interval, queued events and acks, and serves
// commands. When ctx ends it publishes offline and disconnects; it returns
// nil then.
func (a *Agent) Run(ctx context.Context) error {
	a.client.Connect() // retries in the background (SetConnectRetry)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); a.publishLoop(ctx) }()
	go func() { defer wg.Done(); a.commandLoop(ctx) }()
	go func() { defer wg.Done(); a.healthLoop(ctx) }()
	<-ctx.Done()
	wg.Wait()
	if a.client.IsConnectionOpen() {
		b, _ := json.Marshal(State{V: SchemaVersion, State: Offline, TS: a.opts.Now().UTC()})
		t := a.client.Publish(Topic(a.id.Kiosk, ChanState), 1, true, b)
		t.WaitTimeout(2 * time.Second)
	}
	a.client.Disconnect(250)
	return nil
}

func (a *Agent) onConnect(c mqtt.Client) {
	a.log.Info("fleet broker connected", "broker", a.cfg.BrokerURL)
	t := c.Subscribe(Topic(a.id.Kiosk, ChanCmd), 1, func(_ mqtt.Client, m mqtt.Message) {
		select {
		case a.cmds <- m:
		default:
			a.dropped.Add(1)
		}
	})
	if t.WaitTimeout(10*time.Second) && t.Error() != nil {
		a.log.Error("fleet subscribe to commands", "err", t.Error())
	}
	a.publishState(c)
	a.publishHealth(c)
}

func (a *Agent) lifecycle() Lifecycle {
	if a.maint.Load() {
		return Maintenance
	}
	return Online
}

func (a *Agent) publishState(c mqtt.Client) {
	s := State{V: SchemaVersion, State: a.lifecycle(), TS: a.opts.Now().UTC(), Birth: &Birth{
		Version: a.id.Version, Image: a.id.Image, BootTime: a.id.BootTime.UTC(), ConfigHash: a.configHash(),
		HealthIntervalS: max(1, int64(a.healthInterval()/time.Second))}}
	if err := s.Validate(); err != nil {
		a.log.Error("fleet state not published", "err", err)
		return
	}
	b, _ := json.Marshal(s)
	c.Publish(Topic(a.id.Kiosk, ChanState), 1, true, b)
}

// SetMaintenance records that the kiosk is (or is no longer) in
// maintenance, e.g. set by staff at the kiosk, and publishes the new state.
func (a *Agent) SetMaintenance(on bool) {
	if a.maint.Swap(on) == on {
		return
	}
	if a.client.IsConnectionOpen() {
		a.publishState(a.client)
	}
}

// Event queues an event for publishing and returns at once. When the queue
// is full (a long broker outage) the event is dropped and counted; an
// invalid event is dropped and logged.
func (a *Agent) Event(kind EventKind, f EventFields) {
	e := Event{V: SchemaVersion, TS: a.opts.Now().UTC(), Seq: a.seq.Add(1), Kind: kind, EventFields: f}
	if err := e.Validate(); err != nil {
		a.log.Error("fleet event dropped", "kind", string(kind), "err", err)
		a.dropped.Add(1)
		return
	}
	b, _ := json.Marshal(e)
	a.enqueue(outMsg{Topic(a.id.Kiosk, ChanEvent), b, 1, false})
}

func (a *Agent) enqueue(m outMsg) {
	select {
	case a.out <- m:
	default:
		a.dropped.Add(1)
	}
}

// Stats returns the agent's counters.
func (a *Agent) Stats() Stats {
	return Stats{Published: a.pub.Load(), Dropped: a.dropped.Load(), Rejected: a.rejected.Load(), Queued: len(a.out)}
}

// publishLoop sends queued events and acks in order, holding each until
// the broker has it, so a short outage loses nothing that fits the queue.
func (a *Agent) publishLoop(ctx context.Context) {
	for {
		var m outMsg
		select {
		case <-ctx.Done():
			return
		case m = <-a.out:
		}
		for backoff := 200 * time.Millisecond; ; backoff = min(2*backoff, 2*time.Second) {
			if a.client.IsConnectionOpen() {
				t := a.client.Publish(m.topic, m.qos, m.retained, m.payload)
				if t.WaitTimeout(10*time.Second) && t.Error() == nil {
					a.pub.Add(1)
					break
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
		}
	}
}

// healthInterval is mqtt.health_interval, 30 s when unset.
func (a *Agent) healthInterval() time.Duration {
	if iv := a.cfg.HealthInterval.D(); iv > 0 {
		return iv
	}
	return 30 * time.Second
}

func (a *Agent) healthLoop(ctx context.Context) {
	tk := time.NewTicker(a.healthInterval())
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			if a.client.IsConnectionOpen() {
				a.publishHealth(a.client)
			}
		}
	}
}

func (a *Agent) publishHealth(c mqtt.Client) {
	h := a.opts.Health()
	h.V, h.TS, h.TelemetryDropped = SchemaVersion, a.opts.Now().UTC(), a.dropped.Load()
	if err := h.Validate(); err != nil {
		a.log.Error("fleet health not published", "err", err)
		return
	}
	a.mu.Lock()
	a.health = h
	a.mu.Unlock()
	b, _ := json.Marshal(h)
	// Latest wins: QoS 0 and retained, never queued behind events.
	c.Publish(Topic(a.id.Kiosk, ChanHealth), 0, true, b)
	a.pub.Add(1)
}
