package broker

import (
	"bytes"
	"crypto/subtle"
	"net"
	"strings"
	"sync"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// hook is the broker's access control and limits (mochi calls it on every
// connect, publish, subscribe and packet read).
type hook struct {
	mochi.HookBase
	b *Broker
}

// kioskConn is one connected kiosk's state: who it is and its rate budget.
type kioskConn struct {
	ref fleet.KioskRef
	cl  *mochi.Client // the connection this state belongs to
	mu  sync.Mutex
	msg bucket
	byt bucket
}

func (h *hook) ID() string { return "nhikiosk-fleet" }

func (h *hook) Provides(b byte) bool {
	switch b {
	case mochi.OnConnectAuthenticate, mochi.OnACLCheck, mochi.OnPublish, mochi.OnPacketRead, mochi.OnDisconnect:
		return true
	}
	return false
}

// OnConnectAuthenticate checks the credentials and the kiosk's binding.
func (h *hook) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool {
	b := h.b
	user, id := string(pk.Connect.Username), pk.Connect.ClientIdentifier
	key := user + "@" + host(cl.Net.Remote)
	if ok, _ := b.authB.Allow(key); !ok {
		return h.refuse(cl, user, "too many failed logins")
	}
	if want, ok := b.ops[user]; ok {
		if subtle.ConstantTimeCompare([]byte(want), pk.Connect.Password) != 1 {
			b.authB.Fail(key)
			return h.refuse(cl, user, "wrong password")
		}
		if strings.HasPrefix(id, fleet.ClientIDPrefix) {
			return h.refuse(cl, user, "an operator may not use a kiosk's client id")
		}
		b.authB.Succeed(key)
		return true
	}
	k, ok := fleet.KioskFromUsername(user)
	if !ok {
		b.authB.Fail(key)
		return h.refuse(cl, user, "unknown user")
	}
	want, ok := b.kioskHash(user)
	got := PasswordHash(string(pk.Connect.Password))
	if !ok || subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		b.authB.Fail(key)
		return h.refuse(cl, user, "not enrolled, revoked or wrong password")
	}
	b.authB.Succeed(key)
	switch {
	case id != k.ClientID():
		// Issue 14, finding 4: the client id is bound to the user name, so
		// a kiosk cannot take over another's session.
		return h.refuse(cl, user, "client id is not the kiosk's own")
	case !pk.Connect.Clean || pk.Properties.SessionExpiryInterval > 0:
		return h.refuse(cl, user, "a kiosk must use a clean session")
	case pk.Connect.Keepalive == 0 || pk.Connect.Keepalive > 300:
		return h.refuse(cl, user, "keep-alive must be 1–300 s")
	case pk.Connect.WillFlag && (pk.Connect.WillTopic != fleet.Topic(k, fleet.ChanState) || len(pk.Connect.WillPayload) > fleet.MaxStatePayload):
		return h.refuse(cl, user, "Last Will must be a state on the kiosk's own topic")
	}
	if ok, _ := b.connB.Allow(user); !ok {
		return h.refuse(cl, user, "too many connections")
	}
	b.connB.Fail(user) // each connection spends one
	kc := &kioskConn{ref: k, cl: cl}
	now := time.Now()
	kc.msg = bucket{rate: b.lim.MsgRate, burst: float64(b.lim.MsgBurst), tokens: float64(b.lim.MsgBurst), last: now}
	kc.byt = bucket{rate: b.lim.ByteRate, burst: float64(b.lim.ByteBurst), tokens: float64(b.lim.ByteBurst), last: now}
	b.conns.Store(user, kc) // replaces a taken-over session's
	return true
}

func (h *hook) refuse(cl *mochi.Client, user, why string) bool {
	h.b.stats.AuthRefused.Add(1)
	h.b.log.Warn("broker login refused", "user", user, "remote", cl.Net.Remote, "why", why)
	return false
}

func host(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}

// OnDisconnect forgets the kiosk's connection state, unless a newer
// connection of the same kiosk has already replaced it.
func (h *hook) OnDisconnect(cl *mochi.Client, _ error, _ bool) {
	if kc := h.kiosk(cl); kc != nil {
		h.b.conns.CompareAndDelete(string(cl.Properties.Username), kc)
	}
}

// kiosk returns the state of kiosk connection cl; nil for operators and
// for a connection that has been replaced.
func (h *hook) kiosk(cl *mochi.Client) *kioskConn {
	v, ok := h.b.conns.Load(string(cl.Properties.Username))
	if !ok || v.(*kioskConn).cl != cl {
		return nil
	}
	return v.(*kioskConn)
}

// OnACLCheck applies docs/mqtt.md's rules; a kiosk with MaxInflight
// commands unacknowledged gets no more until it answers.
func (h *hook) OnACLCheck(cl *mochi.Client, topic string, write bool) bool {
	if _, ok := h.b.ops[string(cl.Properties.Username)]; ok {
		return true
	}
	kc := h.kiosk(cl)
	if kc == nil || !KioskMayAccess(kc.ref, topic, write) {
		return false
	}
	if !write && cl.State.Inflight.Len() >= h.b.lim.MaxInflight {
		return false
	}
	return true
}

// OnPublish refuses what a kiosk may not publish: more than its channel's
// size, or retained outside state and health. Such a client is hostile or
// broken: it is disconnected (as Mosquitto does with max_packet_size).
func (h *hook) OnPublish(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	kc := h.kiosk(cl)
	if kc == nil {
		return pk, nil // an operator, or the inline client
	}
	ch := pk.TopicName[strings.LastIndexByte(pk.TopicName, '/')+1:]
	switch {
	case len(pk.Payload) > fleet.MaxPayload(ch):
		h.b.stats.Oversize.Add(1)
		h.b.log.Warn("broker refused oversize publish", "kiosk", kc.ref.String(), "channel", ch, "bytes", len(pk.Payload))
	case pk.FixedHeader.Retain && !fleet.Retained(ch):
		h.b.stats.BadRetain.Add(1)
		h.b.log.Warn("broker refused retained publish", "kiosk", kc.ref.String(), "channel", ch)
	default:
		return pk, nil
	}
	_ = h.b.srv.DisconnectClient(cl, packets.ErrPacketTooLarge)
	return pk, packets.ErrRejectPacket
}

// OnPacketRead throttles a kiosk's publishes: past its rate the broker
// stops reading from it for as long as the budget needs to refill, which
// slows that one client down (TCP back-pressure) and nobody else.
func (h *hook) OnPacketRead(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	if pk.FixedHeader.Type != packets.Publish {
		return pk, nil
	}
	kc := h.kiosk(cl)
	if kc == nil {
		return pk, nil
	}
	kc.mu.Lock()
	now := time.Now()
	wait := max(kc.msg.take(now, 1), kc.byt.take(now, float64(len(pk.Payload))))
	kc.mu.Unlock()
	if wait > 0 {
		h.b.stats.Throttled.Add(1)
		time.Sleep(min(wait, 30*time.Second))
	}
	return pk, nil
}

// bucket is a token bucket.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

// take spends n tokens (going into debt) and returns how long until the
// debt is paid.
func (b *bucket) take(now time.Time, n float64) time.Duration {
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens -= n
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
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
