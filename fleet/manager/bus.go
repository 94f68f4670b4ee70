package manager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/broker"
)

// bus is fleetd's connection to one broker: how it hears the kiosks there
// (or, with the embedded broker, only how it sends commands) and whether
// it can hear them now. Losing it makes every kiosk behind it unknown, a
// fleet-wide alert, a failing /healthz, a banner and a metric (issue 14).
type bus struct {
	m          *Manager
	i          int
	url        string
	client     mqtt.Client
	dynsec     *broker.Dynsec
	subscribed atomic.Bool

	mu        sync.Mutex
	up        bool
	since     time.Time // hearing since (start, or the end of the last outage)
	downSince time.Time
	wasUp     bool
}

func newBus(m *Manager, i int, url string) (*bus, error) {
	b := &bus{m: m, i: i, url: url, since: m.started, downSince: m.started}
	co, err := b.clientOptions()
	if err != nil {
		return nil, err
	}
	b.client = mqtt.NewClient(co)
	if m.opts.Dynsec {
		b.dynsec = broker.NewDynsec(b.client)
	}
	return b, nil
}

func (b *bus) clientOptions() (*mqtt.ClientOptions, error) {
	o := b.m.opts
	id := make([]byte, 6)
	rand.Read(id)
	co := mqtt.NewClientOptions().AddBroker(b.url).SetClientID("fleetd-" + hex.EncodeToString(id)).
		SetUsername(o.Broker.Username).SetPassword(o.Password).SetCleanSession(true).
		// One goroutine hands messages over in order; the intake's workers
		// apply them.
		SetOrderMatters(true).
		SetKeepAlive(15 * time.Second).SetPingTimeout(5 * time.Second).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(2 * time.Second).
		SetMaxReconnectInterval(10 * time.Second).SetConnectTimeout(10 * time.Second).SetWriteTimeout(10 * time.Second).
		SetMessageChannelDepth(16384).
		SetOnConnectHandler(b.onConnect).
		SetConnectionLostHandler(b.onLost)
	if o.Broker.PasswordFile != "" {
		pw, err := readSecret(o.Broker.PasswordFile)
		if err != nil {
			return nil, err
		}
		co.SetPassword(pw)
	}
	tc, err := fleet.TLSConfigFor(o.Broker)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		co.SetTLSConfig(tc)
	}
	return co, nil
}

func (b *bus) onConnect(c mqtt.Client) {
	if b.dynsec != nil {
		if err := b.dynsec.Attach(c); err != nil {
			b.m.log.Error("fleetd broker", "broker", b.url, "err", err)
		}
	}
	if b.m.opts.Subscribe == nil {
		t := c.Subscribe(fleet.AllTopics, 1, func(_ mqtt.Client, msg mqtt.Message) {
			// Retained means replayed at subscription ([MQTT-3.3.1-9]): a
			// picture of the past, not the kiosk speaking now.
			b.m.in.submit(msg.Topic(), msg.Payload(), msg.Retained(), b.i)
		})
		if !t.WaitTimeout(10*time.Second) || t.Error() != nil {
			b.m.log.Error("fleetd subscribe", "broker", b.url, "err", t.Error())
			c.Disconnect(100) // and reconnect: a bus that hears nothing is down
			return
		}
	}
	b.m.log.Info("fleetd broker connected", "broker", b.url)
	b.subscribed.Store(true)
	b.m.markReady()
	b.setUp(true)
	if b.dynsec != nil {
		go b.m.reapplyRevocations(b)
	}
}

func (b *bus) onLost(_ mqtt.Client, err error) {
	b.m.log.Warn("fleetd broker connection lost", "broker", b.url, "err", err)
	b.setUp(false)
}

// setUp records a change of the connection and re-evaluates the fleet.
func (b *bus) setUp(up bool) {
	now := b.m.opts.Now()
	b.mu.Lock()
	changed := b.up != up
	b.up = up
	if changed && up {
		if b.wasUp {
			b.since = now // heard nothing during the outage: start again
		}
		b.wasUp = true
	} else if changed {
		b.downSince = now
	}
	b.mu.Unlock()
	if changed {
		b.m.busChanged(now)
	}
}

func (b *bus) hearing() hearing {
	b.mu.Lock()
	defer b.mu.Unlock()
	return hearing{up: b.up, since: b.since}
}

// BrokerState is one broker connection as /healthz, the banner and the
// metrics show it.
type BrokerState struct {
	URL   string    `json:"url"`
	Up    bool      `json:"up"`
	Since time.Time `json:"since"` // up since, or down since
}

// Brokers returns the state of every broker connection.
func (m *Manager) Brokers() []BrokerState {
	out := make([]BrokerState, len(m.buses))
	for i, b := range m.buses {
		b.mu.Lock()
		out[i] = BrokerState{URL: b.url, Up: b.up, Since: b.since}
		if !b.up {
			out[i].Since = b.downSince
		}
		b.mu.Unlock()
	}
	return out
}

// BrokersUp reports whether fleetd hears every broker.
func (m *Manager) BrokersUp() bool {
	for _, b := range m.Brokers() {
		if !b.Up {
			return false
		}
	}
	return true
}

// busChanged re-evaluates every kiosk and the fleet-wide alert.
func (m *Manager) busChanged(now time.Time) {
	up := m.BrokersUp()
	var since time.Time
	for _, b := range m.Brokers() {
		if !b.Up && (since.IsZero() || b.Since.Before(since)) {
			since = b.Since
		}
	}
	if since.IsZero() {
		since = now
	}
	m.mu.Lock()
	had := m.fleetAlert(AlertBrokerDown) != nil
	switch {
	case !up && !had:
		m.fleetAlerts = append(m.fleetAlerts, Alert{Kind: AlertBrokerDown, Since: since})
	case up && had:
		m.fleetAlerts = deleteAlert(m.fleetAlerts, AlertBrokerDown)
	}
	alerts := append([]Alert(nil), m.fleetAlerts...)
	m.mu.Unlock()
	if had != !up {
		if err := m.store.Write(Put(BucketMeta, []byte(metaFleetAlerts), alerts)); err != nil {
			m.log.Error("fleetd store fleet alerts", "err", err)
		}
		if up {
			m.log.Info("fleetd hears the fleet again")
		} else {
			m.log.Error("fleetd cannot hear the fleet: broker unreachable", "since", since)
		}
	}
	m.evaluateAll(now)
	m.hub.publish("", changeFleet|changeAlerts)
}

func (m *Manager) fleetAlert(kind AlertKind) *Alert {
	for i := range m.fleetAlerts {
		if m.fleetAlerts[i].Kind == kind {
			return &m.fleetAlerts[i]
		}
	}
	return nil
}

// publish sends payload on topic of kiosk k through the broker it was last
// heard on, or through every broker when that is not known.
func (m *Manager) publish(k fleet.KioskRef, ch string, retained bool, payload []byte) error {
	m.mu.RLock()
	via := 0
	if kk := m.kiosks[k.String()]; kk != nil {
		via = kk.via
	}
	m.mu.RUnlock()
	targets := m.buses
	if via > 0 && via <= len(m.buses) {
		targets = m.buses[via-1 : via]
	}
	var errs []error
	for _, b := range targets {
		t := b.client.Publish(fleet.Topic(k, ch), 1, retained, payload)
		if !t.WaitTimeout(10*time.Second) || t.Error() != nil {
			errs = append(errs, fmt.Errorf("%s: %v", b.url, t.Error()))
		}
	}
	if len(errs) == len(targets) {
		return fmt.Errorf("publish to %s: %w", k, errors.Join(errs...))
	}
	return nil
}

// dynsecAll manages credentials in every broker.
type dynsecAll []*bus

func (d dynsecAll) SetKiosk(ctx context.Context, k fleet.KioskRef, pw string) error {
	var errs []error
	for _, b := range d {
		if err := b.dynsec.SetKiosk(ctx, k, pw); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (d dynsecAll) RevokeKiosk(ctx context.Context, k fleet.KioskRef) error {
	var errs []error
	for _, b := range d {
		if err := b.dynsec.RevokeKiosk(ctx, k); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// reapplyRevocations disables every revoked kiosk in broker b again (a
// broker restored from an old configuration must not let them back).
func (m *Manager) reapplyRevocations(b *bus) {
	m.mu.RLock()
	var revoked []fleet.KioskRef
	for _, k := range m.kiosks {
		if k.Revoked() {
			revoked = append(revoked, k.Ref)
		}
	}
	m.mu.RUnlock()
	for _, ref := range revoked {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := b.dynsec.RevokeKiosk(ctx, ref)
		cancel()
		if err != nil {
			m.log.Error("fleetd revoke again", "kiosk", ref.String(), "broker", b.url, "err", err)
		}
	}
}
