package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// Topics of Mosquitto's Dynamic Security plugin.
const (
	DynsecTopic         = "$CONTROL/dynamic-security/v1"
	DynsecResponseTopic = DynsecTopic + "/response"
)

// Dynsec gives kiosks their own credentials in a Mosquitto broker through
// its Dynamic Security plugin (the documented Mosquitto configuration,
// docs/mqtt.md): each kiosk is a dynsec client with its password, its
// client id bound to it, and a role that allows only its own topics.
// Disabling the client (RevokeKiosk) makes Mosquitto drop its session at
// once and refuse it afterwards.
//
// The MQTT client must be connected as a user allowed to publish to
// DynsecTopic and read DynsecResponseTopic; call Attach from its
// OnConnect handler. Methods are safe for concurrent use; each waits for
// the broker's answer until its context ends.
type Dynsec struct {
	c        mqtt.Client
	prefix   string
	seq      atomic.Uint64
	attached chan struct{} // closed once answers can be heard
	once     sync.Once
	mu       sync.Mutex
	waiting  map[string]chan dynsecResult
}

type dynsecResult struct {
	Command string `json:"command"`
	Error   string `json:"error"`
	Corr    string `json:"correlationData"`
}

// NewDynsec manages credentials through client c.
func NewDynsec(c mqtt.Client) *Dynsec {
	b := make([]byte, 6)
	rand.Read(b)
	return &Dynsec{c: c, prefix: "fleetd-" + hex.EncodeToString(b) + "-", waiting: map[string]chan dynsecResult{},
		attached: make(chan struct{})}
}

// Attach subscribes to the plugin's answers; call it on every connect.
func (d *Dynsec) Attach(c mqtt.Client) error {
	t := c.Subscribe(DynsecResponseTopic, 1, func(_ mqtt.Client, m mqtt.Message) {
		rs := parseDynsecAnswer(m.Payload())
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, res := range rs {
			if ch, ok := d.waiting[res.Corr]; ok {
				ch <- res
				delete(d.waiting, res.Corr)
			}
		}
	})
	if !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		return fmt.Errorf("dynsec: subscribe to answers: %v", t.Error())
	}
	d.once.Do(func() { close(d.attached) })
	return nil
}

// parseDynsecAnswer reads the plugin's answer: the results of the
// commands, each with the correlation data it was sent with. Anything
// else (too large, not JSON) is no answer.
func parseDynsecAnswer(b []byte) []dynsecResult {
	var r struct {
		Responses []dynsecResult `json:"responses"`
	}
	if len(b) > 1<<20 || json.Unmarshal(b, &r) != nil {
		return nil
	}
	return r.Responses
}

// dynsecRole is the role holding kiosk k's access rules.
func dynsecRole(k fleet.KioskRef) string { return "nhikiosk-kiosk-" + k.Username() }

// SetKiosk creates kiosk k's dynsec client and role, or gives it a new
// password (Mosquitto drops a session using the old one), and enables it.
func (d *Dynsec) SetKiosk(ctx context.Context, k fleet.KioskRef, password string) error {
	acls := []map[string]any{{"acltype": "subscribeLiteral", "topic": fleet.Topic(k, fleet.ChanCmd), "allow": true}}
	for _, ch := range []string{fleet.ChanState, fleet.ChanHealth, fleet.ChanEvent, fleet.ChanAck} {
		acls = append(acls, map[string]any{"acltype": "publishClientSend", "topic": fleet.Topic(k, ch), "allow": true})
	}
	user := k.Username()
	return d.do(ctx, "enroll "+k.String(),
		cmd{"createRole", map[string]any{"rolename": dynsecRole(k), "acls": acls}, "Role already exists"},
		cmd{"createClient", map[string]any{"username": user, "password": password, "clientid": k.ClientID(),
			"roles": []map[string]any{{"rolename": dynsecRole(k)}}}, "Client already exists"},
		cmd{"setClientPassword", map[string]any{"username": user, "password": password}, ""},
		cmd{"setClientId", map[string]any{"username": user, "clientid": k.ClientID()}, ""},
		cmd{"enableClient", map[string]any{"username": user}, ""})
}

// RevokeKiosk disables kiosk k: its session is dropped at once and it
// cannot log in again until SetKiosk.
func (d *Dynsec) RevokeKiosk(ctx context.Context, k fleet.KioskRef) error {
	return d.do(ctx, "revoke "+k.String(), cmd{"disableClient", map[string]any{"username": k.Username()}, "Client not found"})
}

// DeleteKiosk removes kiosk k's client and role from the broker.
func (d *Dynsec) DeleteKiosk(ctx context.Context, k fleet.KioskRef) error {
	return d.do(ctx, "delete "+k.String(),
		cmd{"deleteClient", map[string]any{"username": k.Username()}, "Client not found"},
		cmd{"deleteRole", map[string]any{"rolename": dynsecRole(k)}, "Role not found"})
}

// cmd is one dynsec command; an error equal to tolerate is not one.
type cmd struct {
	name     string
	args     map[string]any
	tolerate string
}

// do sends cmds in one message (the plugin runs them in order) and waits
// for every answer; an answer lost (a reconnection) makes it send them
// again, as every command here may safely run twice.
func (d *Dynsec) do(ctx context.Context, what string, cmds ...cmd) error {
	select {
	case <-d.attached:
	case <-ctx.Done():
		return fmt.Errorf("dynsec %s: not connected to the broker: %w", what, ctx.Err())
	}
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := d.once1(actx, what, cmds)
		cancel()
		if !errors.Is(err, errNoAnswer) || ctx.Err() != nil {
			return err
		}
	}
}

var errNoAnswer = errors.New("no answer from the broker (is the Dynamic Security plugin loaded, and may this user use it?)")

func (d *Dynsec) once1(ctx context.Context, what string, cmds []cmd) error {
	var list []map[string]any
	chans := make([]chan dynsecResult, len(cmds))
	d.mu.Lock()
	for i, c := range cmds {
		corr := fmt.Sprintf("%s%d", d.prefix, d.seq.Add(1))
		m := map[string]any{"command": c.name, "correlationData": corr}
		for k, v := range c.args {
			m[k] = v
		}
		list = append(list, m)
		chans[i] = make(chan dynsecResult, 1)
		d.waiting[corr] = chans[i]
	}
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		for _, m := range list {
			delete(d.waiting, m["correlationData"].(string))
		}
		d.mu.Unlock()
	}()
	b, _ := json.Marshal(map[string]any{"commands": list})
	t := d.c.Publish(DynsecTopic, 1, false, b)
	select {
	case <-t.Done():
		if t.Error() != nil {
			return fmt.Errorf("dynsec %s: %w", what, t.Error())
		}
	case <-ctx.Done():
		return fmt.Errorf("dynsec %s: %w", what, ctx.Err())
	}
	var errs []error
	for i, ch := range chans {
		select {
		case r := <-ch:
			if r.Error != "" && r.Error != cmds[i].tolerate {
				errs = append(errs, fmt.Errorf("%s: %s", cmds[i].name, r.Error))
			}
		case <-ctx.Done():
			return fmt.Errorf("dynsec %s: %w", what, errNoAnswer)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("dynsec %s: %w", what, errors.Join(errs...))
	}
	return nil
}
