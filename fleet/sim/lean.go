package sim

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// LeanOptions configure RunLean.
type LeanOptions struct {
	// Kiosks are the kiosks to simulate, each with its broker URL
	// (mqtt://host:port, plain) and password ("" on an anonymous broker).
	Kiosks []LeanKiosk
	// HealthInterval is how often each kiosk publishes health.
	HealthInterval time.Duration
	// Ramp spreads the connections over this long.
	Ramp time.Duration
}

// LeanKiosk is one kiosk of a lean simulation.
type LeanKiosk struct {
	Ref       fleet.KioskRef
	BrokerURL string
	Password  string
}

// LeanStats counts what lean kiosks did.
type LeanStats struct {
	Connected   atomic.Int64 // connections up now
	Connects    atomic.Int64 // successful connects so far
	Refused     atomic.Int64 // connects the broker refused or that failed
	HealthSent  atomic.Int64
	WriteErrors atomic.Int64
}

// RunLean runs lean simulated kiosks until ctx ends: each speaks exactly
// the agent's protocol on the wire (MQTT 3.1.1: a clean session with the
// kiosk's bound client id and a Last Will, its cmd subscription, a retained
// birth, retained health every interval with real schema payloads) with
// one goroutine and a few kilobytes per kiosk instead of a full MQTT client,
// so one process can simulate ten thousand kiosks for a load test. Lean
// kiosks acknowledge commands at the MQTT level but do not run them; use
// Run (real agents) for that. Plain MQTT only: load tests run on loopback.
func RunLean(ctx context.Context, o LeanOptions, st *LeanStats) error {
	if len(o.Kiosks) == 0 {
		return nil
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = 30 * time.Second
	}
	ks := make([]*leanKiosk, len(o.Kiosks))
	for i, lk := range o.Kiosks {
		u, err := url.Parse(lk.BrokerURL)
		if err != nil || u.Host == "" || (u.Scheme != "mqtt" && u.Scheme != "tcp") {
			return fmt.Errorf("lean kiosk %s: broker %q: want mqtt://host:port", lk.Ref, lk.BrokerURL)
		}
		ks[i] = &leanKiosk{LeanKiosk: lk, addr: u.Host, sim: newKiosk(i), st: st, every: o.HealthInterval}
	}
	var wg sync.WaitGroup
	step := o.Ramp / time.Duration(len(ks))
	for _, k := range ks {
		wg.Add(1)
		go func() { defer wg.Done(); k.run(ctx) }()
		select {
		case <-ctx.Done():
		case <-time.After(step):
		}
	}
	// One goroutine sends every kiosk's health, spread over the interval.
	const tick = 100 * time.Millisecond
	slots := max(1, int(o.HealthInterval/tick))
	tk := time.NewTicker(tick)
	defer tk.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			for _, k := range ks {
				k.write([]byte{0xe0, 0}) // DISCONNECT: a clean stop, no Last Will
				k.close()
			}
			wg.Wait()
			return nil
		case <-tk.C:
		}
		for i := n % slots; i < len(ks); i += slots {
			ks[i].sendHealth()
		}
	}
}

type leanKiosk struct {
	LeanKiosk
	addr  string
	sim   *kiosk
	st    *LeanStats
	every time.Duration
	mu    sync.Mutex // serialises writes
	conn  net.Conn
}

// run connects, keeps reading until the connection fails, and connects
// again after a pause, until ctx ends.
func (k *leanKiosk) run(ctx context.Context) {
	for ctx.Err() == nil {
		c, err := k.connect()
		if err != nil {
			k.st.Refused.Add(1)
		} else {
			k.st.Connects.Add(1)
			k.st.Connected.Add(1)
			k.read(c)
			k.st.Connected.Add(-1)
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}

func (k *leanKiosk) connect() (net.Conn, error) {
	c, err := net.DialTimeout("tcp", k.addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	keepalive := min(max(2*k.every, 30*time.Second), 300*time.Second)
	will, _ := json.Marshal(fleet.State{V: fleet.SchemaVersion, State: fleet.Offline, Will: true})
	c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := c.Write(connectPacket(k.Ref, k.Password, uint16(keepalive/time.Second), will)); err != nil {
		c.Close()
		return nil, err
	}
	var ack [4]byte
	if _, err := io.ReadFull(c, ack[:]); err != nil || ack[0] != 0x20 || ack[3] != 0 {
		c.Close()
		return nil, fmt.Errorf("connack %x: %v", ack, err)
	}
	birth, _ := json.Marshal(fleet.State{V: fleet.SchemaVersion, State: fleet.Online, TS: time.Now().UTC(), Birth: &fleet.Birth{
		Version: k.sim.version, Image: "gokrazy-2026.11.20", BootTime: k.sim.start.UTC(), ConfigHash: "sha256:5f0c9a",
		HealthIntervalS: max(1, int64(k.every/time.Second))}})
	var b []byte
	b = append(b, subscribePacket(1, fleet.Topic(k.Ref, fleet.ChanCmd))...)
	b = append(b, publishPacket(fleet.Topic(k.Ref, fleet.ChanState), birth, 1, true, 2)...)
	if _, err := c.Write(b); err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	k.mu.Lock()
	k.conn = c
	k.mu.Unlock()
	k.sendHealth()
	return c, nil
}

// read discards what the broker sends, acknowledging QoS 1 publishes
// (commands), until the connection fails.
func (k *leanKiosk) read(c net.Conn) {
	r := bufio.NewReaderSize(c, 512)
	for {
		typ, err := r.ReadByte()
		if err != nil {
			break
		}
		n, err := readLength(r)
		if err != nil {
			break
		}
		if typ>>4 == 3 && typ&0x06 == 0x02 && n >= 2 { // PUBLISH QoS 1
			var tl [2]byte
			if _, err := io.ReadFull(r, tl[:]); err != nil {
				break
			}
			tlen := int(binary.BigEndian.Uint16(tl[:]))
			if _, err := r.Discard(tlen); err != nil {
				break
			}
			var id [2]byte
			if _, err := io.ReadFull(r, id[:]); err != nil {
				break
			}
			if _, err := r.Discard(n - 4 - tlen); err != nil {
				break
			}
			k.write([]byte{0x40, 2, id[0], id[1]})
			continue
		}
		if _, err := r.Discard(n); err != nil {
			break
		}
	}
	k.close()
}

func (k *leanKiosk) sendHealth() {
	h := k.sim.health()
	h.V, h.TS = fleet.SchemaVersion, time.Now().UTC()
	b, _ := json.Marshal(h)
	if k.write(publishPacket(fleet.Topic(k.Ref, fleet.ChanHealth), b, 0, true, 0)) {
		k.st.HealthSent.Add(1)
	}
}

func (k *leanKiosk) write(p []byte) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.conn == nil {
		return false
	}
	k.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := k.conn.Write(p); err != nil {
		k.st.WriteErrors.Add(1)
		k.conn.Close()
		k.conn = nil
		return false
	}
	return true
}

func (k *leanKiosk) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.conn != nil {
		k.conn.Close()
		k.conn = nil
	}
}

// MQTT 3.1.1 packets (OASIS MQTT 3.1.1, section 3).

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func appendBytes(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func packet(typ byte, body []byte) []byte {
	out := []byte{typ}
	n := len(body)
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		out = append(out, d)
		if n == 0 {
			break
		}
	}
	return append(out, body...)
}

func connectPacket(k fleet.KioskRef, password string, keepalive uint16, will []byte) []byte {
	flags := byte(0x02 | 0x04 | 0x08 | 0x20 | 0x80) // clean, will QoS 1 retained, user name
	if password != "" {
		flags |= 0x40
	}
	b := appendString(nil, "MQTT")
	b = append(b, 4, flags)
	b = binary.BigEndian.AppendUint16(b, keepalive)
	b = appendString(b, k.ClientID())
	b = appendString(b, fleet.Topic(k, fleet.ChanState))
	b = appendBytes(b, will)
	b = appendString(b, k.Username())
	if password != "" {
		b = appendString(b, password)
	}
	return packet(0x10, b)
}

func subscribePacket(id uint16, topic string) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = appendString(b, topic)
	return packet(0x82, append(b, 1))
}

func publishPacket(topic string, payload []byte, qos byte, retain bool, id uint16) []byte {
	typ := byte(0x30 | qos<<1)
	if retain {
		typ |= 1
	}
	b := appendString(nil, topic)
	if qos > 0 {
		b = binary.BigEndian.AppendUint16(b, id)
	}
	return packet(typ, append(b, payload...))
}

func readLength(r *bufio.Reader) (int, error) {
	n, mul := 0, 1
	for i := 0; i < 4; i++ {
		d, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		n += int(d&0x7f) * mul
		if d&0x80 == 0 {
			return n, nil
		}
		mul *= 128
	}
	return 0, errors.New("malformed remaining length")
}
