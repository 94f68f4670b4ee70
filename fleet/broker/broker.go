// Package broker owns fleetd's embedded MQTT broker (mochi-mqtt) and what
// fleetd needs of an external one (Mosquitto's Dynamic Security plugin,
// dynsec.go): the access rules of docs/mqtt.md, per-kiosk credentials that
// can be revoked one by one, and the limits that hold against a hostile
// kiosk (issue 14).
//
// In the embedded broker a kiosk, identified by its user name
// "site.kiosk", must connect with the client id fleet.KioskRef.ClientID,
// a clean session, a keep-alive and a Last Will on its own state topic;
// it may publish only its own state, health, event and ack topics, each
// within fleet.MaxPayload, retained only on state and health, at a bounded
// rate; it may read only its own cmd topic, with a bounded number of
// commands in flight. Operator users (fleetd itself, a standby, a bridge)
// may do everything. Kiosk passwords are never stored: the broker keeps
// the SHA-256 of each enrolled kiosk's random password, given to it by
// fleetd (SetKiosk), and forgets it on revocation (RevokeKiosk), dropping
// the kiosk's session at once.
//
// It must not log passwords or payloads: packets are logged as their type,
// topic and size.
package broker

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/internal/budget"
)

// Config configures the embedded broker.
type Config struct {
	// Addr is the listen address, e.g. "127.0.0.1:8883".
	Addr string
	// TLS, if set, makes the listener TLS (mqtts).
	TLS *tls.Config
	// LocalAddr, if set, is a second, plain listener for fleetd itself;
	// it must be a loopback address.
	LocalAddr string
	// Operators maps operator user names to their passwords.
	Operators map[string]string
	// Limits bound what one kiosk may do; zero fields take the defaults.
	Limits Limits
	Logger *slog.Logger
}

// Limits bound one kiosk's use of the broker. The defaults leave a real
// kiosk (health every 30 s, a few events, a screenshot now and then) far
// below every limit.
type Limits struct {
	// MsgRate and MsgBurst: publishes per second per kiosk, sustained and
	// in a burst (default 10/s, 200). Beyond it the broker stops reading
	// from the kiosk until it may (back-pressure, nothing is dropped).
	MsgRate  float64
	MsgBurst int
	// ByteRate and ByteBurst: payload bytes per second per kiosk
	// (default 64 KiB/s, 2 MiB: one screenshot ack fits the burst).
	ByteRate  float64
	ByteBurst int
	// MaxInflight bounds the commands sent to one kiosk and not yet
	// acknowledged by it (default 16); more are not delivered.
	MaxInflight int
	// MaxPending bounds the messages queued to any one client (default
	// 128). Each client's queue is allocated whole (8 bytes a slot), so
	// this sets part of the broker's memory per connection; a standby
	// fleetd hearing the whole fleet through this broker may miss messages
	// in a connect storm past it (the next health makes up for them).
	MaxPending int
	// ConnectsPerMinute bounds one kiosk's connections (default 30).
	ConnectsPerMinute int
	// AuthFailures bounds failed logins per user name and address within
	// 10 minutes (default 20); past it logins are refused unchecked.
	AuthFailures int
	// MaxClients bounds connected clients (default 100,000).
	MaxClients int64
}

func (l *Limits) defaults() {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	defi := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MsgRate, 10)
	defi(&l.MsgBurst, 200)
	def(&l.ByteRate, 64<<10)
	defi(&l.ByteBurst, 2<<20)
	defi(&l.MaxInflight, 16)
	defi(&l.MaxPending, 128)
	defi(&l.ConnectsPerMinute, 30)
	defi(&l.AuthFailures, 20)
	if l.MaxClients <= 0 {
		l.MaxClients = 100000
	}
}

// Broker is a running embedded broker.
type Broker struct {
	srv    *mochi.Server
	addr   string
	local  string
	log    *slog.Logger
	lim    Limits
	ops    map[string]string
	authB  *budget.Budget // failed logins per user@address
	connB  *budget.Budget // connections per kiosk
	mu     sync.RWMutex
	kiosks map[string][sha256.Size]byte // user name → SHA-256(password)
	conns  sync.Map                     // kiosk user name → *kioskConn (bounded by the enrolled kiosks)
	stats  Stats
}

// Stats count what the broker refused or slowed. Read them with Stats().
type Stats struct {
	AuthRefused atomic.Uint64 // logins refused (bad credentials, binding, budget)
	Oversize    atomic.Uint64 // kiosk publishes over their channel's limit
	BadRetain   atomic.Uint64 // kiosk retained publishes outside state and health
	Throttled   atomic.Uint64 // kiosk publishes delayed by the rate limit
	Kicked      atomic.Uint64 // sessions dropped by revocation or rotation
}

// OperatorPassword derives the password of an operator user (fleetd
// itself) from secret. Kiosks have their own random credentials.
func OperatorPassword(secret []byte, user string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("nhikiosk-broker-operator-v1\x00" + user))
	return hex.EncodeToString(m.Sum(nil))
}

// PasswordHash is what the broker keeps of a kiosk password.
func PasswordHash(password string) [sha256.Size]byte {
	return sha256.Sum256([]byte("nhikiosk-kiosk-password-v1\x00" + password))
}

// Start listens on cfg.Addr and serves until Close.
func Start(cfg Config) (*Broker, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = slog.New(packetSummary{log.Handler()}).With("component", "broker")
	cfg.Limits.defaults()
	b := &Broker{log: log, lim: cfg.Limits, ops: cfg.Operators, kiosks: map[string][sha256.Size]byte{},
		authB: budget.New(cfg.Limits.AuthFailures, 10*time.Minute, 100000),
		connB: budget.New(cfg.Limits.ConnectsPerMinute, time.Minute, 200000)}
	srv := mochi.New(&mochi.Options{Logger: log, InlineClient: true,
		// Small buffers: a kiosk's packets are small, and each connection
		// has one of each (memory per kiosk, issue 14).
		ClientNetReadBufferSize: 512, ClientNetWriteBufferSize: 512})
	caps := srv.Options.Capabilities
	caps.MaximumClientWritesPending = int32(cfg.Limits.MaxPending)
	caps.MaximumPacketSize = fleet.MaxPacket
	caps.MaximumQos = 1         // the schema uses 0 and 1; no QoS 2 state held per client
	caps.ReceiveMaximum = 32    // QoS>0 publishes a client may have unacknowledged
	caps.MaximumInflight = 1024 // per client, operators included (kiosks: MaxInflight)
	caps.TopicAliasMaximum = 0  // no alias tables per client
	caps.MaximumSessionExpiryInterval = 3600
	// No expiry: a kiosk's retained birth must outlive a day of uptime
	// (mochi's default dropped retained messages after 24 h).
	caps.MaximumMessageExpiryInterval = 0
	caps.MaximumClients = cfg.Limits.MaxClients
	caps.SharedSubAvailable = 1
	b.srv = srv
	if err := srv.AddHook(&hook{b: b}, nil); err != nil {
		return nil, fmt.Errorf("start broker: %w", err)
	}
	addr, err := reserve(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("start broker: %w", err)
	}
	b.addr = addr
	if err := srv.AddListener(listeners.NewTCP(listeners.Config{ID: "fleet", Address: addr, TLSConfig: cfg.TLS})); err != nil {
		return nil, fmt.Errorf("start broker: %w", err)
	}
	if cfg.LocalAddr != "" {
		if b.local, err = reserve(cfg.LocalAddr); err != nil {
			return nil, fmt.Errorf("start broker: %w", err)
		}
		if err := srv.AddListener(listeners.NewTCP(listeners.Config{ID: "local", Address: b.local})); err != nil {
			return nil, fmt.Errorf("start broker: %w", err)
		}
	}
	if err := srv.Serve(); err != nil {
		return nil, fmt.Errorf("start broker: serve: %w", err)
	}
	return b, nil
}

// reserve resolves a ":0" port by listening briefly; mochi listens itself.
func reserve(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen %s: %w", addr, err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// LocalAddr is the plain loopback listener's address, if any.
func (b *Broker) LocalAddr() string { return b.local }

// Addr is the address the broker listens on.
func (b *Broker) Addr() string { return b.addr }

// Clients is the number of connected clients.
func (b *Broker) Clients() int64 { return atomic.LoadInt64(&b.srv.Info.ClientsConnected) }

// Stats returns the broker's refusal counters.
func (b *Broker) Stats() *Stats { return &b.stats }

// Close stops the broker and disconnects every client.
func (b *Broker) Close() error { return b.srv.Close() }

// Subscribe delivers every message matching filter to handle, inside the
// broker: handle runs synchronously on the publishing client's goroutine,
// so it must be quick and safe for concurrent use; it may block to push
// back on that one client. Unlike a network subscriber it has no queue to
// overflow, so no message is dropped.
func (b *Broker) Subscribe(filter string, handle func(topic string, payload []byte)) error {
	err := b.srv.Subscribe(filter, 1, func(_ *mochi.Client, _ packets.Subscription, pk packets.Packet) {
		handle(pk.TopicName, pk.Payload)
	})
	if err != nil {
		return fmt.Errorf("broker subscribe %s: %w", filter, err)
	}
	return nil
}

// LoadKioskHash makes the broker accept kiosk k with the password whose
// PasswordHash is hash (fleetd loading its enrolled kiosks at start).
func (b *Broker) LoadKioskHash(k fleet.KioskRef, hash [sha256.Size]byte) {
	b.mu.Lock()
	b.kiosks[k.Username()] = hash
	b.mu.Unlock()
}

// SetKiosk enrolls kiosk k with password, or gives it a new one: a session
// connected with the old password is dropped.
func (b *Broker) SetKiosk(_ context.Context, k fleet.KioskRef, password string) error {
	b.LoadKioskHash(k, PasswordHash(password))
	b.kick(k)
	return nil
}

// RevokeKiosk forgets kiosk k's credential and drops its session at once;
// it cannot connect again until enrolled anew. Other kiosks are untouched.
func (b *Broker) RevokeKiosk(_ context.Context, k fleet.KioskRef) error {
	b.mu.Lock()
	delete(b.kiosks, k.Username())
	b.mu.Unlock()
	b.kick(k)
	return nil
}

// kick drops kiosk k's session, if connected, without its Last Will (the
// kiosk did not lose its connection; fleetd cut it).
func (b *Broker) kick(k fleet.KioskRef) {
	cl, ok := b.srv.Clients.Get(k.ClientID())
	if !ok || cl.Closed() {
		return
	}
	atomic.StoreUint32(&cl.Properties.Will.Flag, 0)
	b.stats.Kicked.Add(1)
	b.log.Info("broker dropped kiosk session", "kiosk", k.String())
	_ = b.srv.DisconnectClient(cl, packets.ErrNotAuthorized)
}

func (b *Broker) kioskHash(user string) ([sha256.Size]byte, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	h, ok := b.kiosks[user]
	return h, ok
}
