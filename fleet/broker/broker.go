// Package broker owns fleetd's embedded MQTT broker (mochi-mqtt): its
// listener on loopback or TLS, and the access rules of docs/mqtt.md — a
// kiosk, identified by its user name "site.kiosk", may publish only its own
// state, health, event and ack topics and read only its own cmd topic;
// operator users (fleetd itself, the CLI, a standby) may do everything.
//
// Kiosk passwords are not stored: each is an HMAC of the kiosk's user name
// under the broker's secret (KioskPassword), so fleetd can hand out
// credentials for a new kiosk without a database. It must not log
// passwords or payloads.
package broker

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/nhikiosk/nhikiosk/fleet"
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
	// Secret derives kiosk passwords (KioskPassword). At least 16 bytes.
	Secret []byte
	// Operators maps operator user names to their passwords.
	Operators map[string]string
	// MaxPending bounds the messages queued to one client (default 1024).
	// Each client's queue is allocated whole, so this sets the broker's
	// memory per connection (8 bytes a slot).
	MaxPending int
	Logger     *slog.Logger
}

// Broker is a running embedded broker.
type Broker struct {
	srv   *mochi.Server
	addr  string
	local string
}

// KioskPassword is the broker password of kiosk k under secret.
func KioskPassword(secret []byte, k fleet.KioskRef) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("nhikiosk-broker-v1\x00" + k.Username()))
	return hex.EncodeToString(m.Sum(nil))
}

// OperatorPassword derives the password of an operator user (fleetd
// itself) from secret. Its label differs from kiosks', so no kiosk's
// credentials ever equal an operator's.
func OperatorPassword(secret []byte, user string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("nhikiosk-broker-operator-v1\x00" + user))
	return hex.EncodeToString(m.Sum(nil))
}

// Start listens on cfg.Addr and serves until Close.
func Start(cfg Config) (*Broker, error) {
	if len(cfg.Secret) < 16 {
		return nil, fmt.Errorf("start broker: secret of %d bytes, want at least 16", len(cfg.Secret))
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	srv := mochi.New(&mochi.Options{Logger: log.With("component", "broker"), InlineClient: true})
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 1024
	}
	srv.Options.Capabilities.MaximumClientWritesPending = int32(cfg.MaxPending)
	if err := srv.AddHook(&authHook{secret: cfg.Secret, ops: cfg.Operators}, nil); err != nil {
		return nil, fmt.Errorf("start broker: %w", err)
	}
	addr, err := reserve(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("start broker: %w", err)
	}
	if err := srv.AddListener(listeners.NewTCP(listeners.Config{ID: "fleet", Address: addr, TLSConfig: cfg.TLS})); err != nil {
		return nil, fmt.Errorf("start broker: %w", err)
	}
	var local string
	if cfg.LocalAddr != "" {
		if local, err = reserve(cfg.LocalAddr); err != nil {
			return nil, fmt.Errorf("start broker: %w", err)
		}
		if err := srv.AddListener(listeners.NewTCP(listeners.Config{ID: "local", Address: local})); err != nil {
			return nil, fmt.Errorf("start broker: %w", err)
		}
	}
	if err := srv.Serve(); err != nil {
		return nil, fmt.Errorf("start broker: serve: %w", err)
	}
	return &Broker{srv: srv, addr: addr, local: local}, nil
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

// Subscribe delivers every message matching filter to handle, inside the
// broker: handle runs synchronously on the publishing client's goroutine,
// so it must be quick and safe for concurrent use. Unlike a network
// subscriber it has no queue to overflow, so no message is dropped.
func (b *Broker) Subscribe(filter string, handle func(topic string, payload []byte)) error {
	err := b.srv.Subscribe(filter, 1, func(_ *mochi.Client, _ packets.Subscription, pk packets.Packet) {
		handle(pk.TopicName, pk.Payload)
	})
	if err != nil {
		return fmt.Errorf("broker subscribe %s: %w", filter, err)
	}
	return nil
}

// Addr is the address the broker listens on.
func (b *Broker) Addr() string { return b.addr }

// Clients is the number of connected clients.
func (b *Broker) Clients() int64 { return b.srv.Info.ClientsConnected }

// Close stops the broker and disconnects every client.
func (b *Broker) Close() error { return b.srv.Close() }

type authHook struct {
	mochi.HookBase
	secret []byte
	ops    map[string]string
}

func (h *authHook) ID() string { return "nhikiosk-fleet-auth" }

func (h *authHook) Provides(b byte) bool {
	return b == mochi.OnConnectAuthenticate || b == mochi.OnACLCheck
}

func (h *authHook) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool {
	user, pass := string(pk.Connect.Username), pk.Connect.Password
	if want, ok := h.ops[user]; ok {
		return subtle.ConstantTimeCompare([]byte(want), pass) == 1
	}
	k, ok := fleet.KioskFromUsername(user)
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(KioskPassword(h.secret, k)), pass) == 1
}

func (h *authHook) OnACLCheck(cl *mochi.Client, topic string, write bool) bool {
	user := string(cl.Properties.Username)
	if _, ok := h.ops[user]; ok {
		return true
	}
	k, ok := fleet.KioskFromUsername(user)
	if !ok {
		return false
	}
	return KioskMayAccess(k, topic, write)
}

// KioskMayAccess is the kiosk rule of docs/mqtt.md: write its own state,
// health, event and ack; read (subscribe to) its own cmd; nothing else, and
// no wildcards.
func KioskMayAccess(k fleet.KioskRef, topic string, write bool) bool {
	if bytes.ContainsAny([]byte(topic), "#+") {
		return false
	}
	if !write {
		return topic == fleet.Topic(k, fleet.ChanCmd)
	}
	for _, ch := range []string{fleet.ChanState, fleet.ChanHealth, fleet.ChanEvent, fleet.ChanAck} {
		if topic == fleet.Topic(k, ch) {
			return true
		}
	}
	return false
}
