package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
)

// applier is a nopHandler that takes central configurations over a local
// configuration, by config's rules.
type applier struct {
	nopHandler
	local config.Config
	got   []config.Overlay
}

func (h *applier) ApplyConfig(_ context.Context, o config.Overlay) (Token, error) {
	h.got = append(h.got, o)
	c, err := o.Apply(h.local)
	if err != nil {
		return Token(config.EffectiveHash(h.local, o)), fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return Token(config.EffectiveHash(c, o)), nil
}

func TestApplyConfigCommand(t *testing.T) {
	s, _ := testKeys(t)
	a, _ := newTestAgent(t, s, 64)
	local := config.Reference()
	local.Panel.Tamper = "GPIO18"
	h := &applier{local: local}
	a.opts.Handler = h
	cmd := func(id Token, doc string, mod func(*Command)) []byte {
		now := time.Now()
		c := Command{V: 1, ID: id, Site: "s", Kiosk: "k", Name: CmdApplyConfig, Config: json.RawMessage(doc), Issued: now, Expires: now.Add(time.Minute)}
		s.Sign(&c)
		if mod != nil {
			mod(&c)
		}
		b, _ := json.Marshal(c)
		return b
	}
	ctx := context.Background()
	good, _ := config.ParseOverlay([]byte(`{"session":{"idle_timeout":"45s"}}`))
	a.handleCommand(ctx, cmd("ok", `{"session":{"idle_timeout":"45s"}}`, nil))
	a.handleCommand(ctx, cmd("pin", `{"panel":{"buzzer":"GPIO18"}}`, nil))
	a.handleCommand(ctx, cmd("secret", `{"mqtt":{"password_file":"/tmp/x"}}`, nil))
	a.handleCommand(ctx, cmd("altered", `{"language":"en"}`, func(c *Command) { c.Config = json.RawMessage(`{"language":"zh-TW"}`) }))
	got := map[Token]Ack{}
	for _, ack := range queuedAcks(a) {
		if err := ack.Validate(); err != nil {
			t.Errorf("ack %s: %v", ack.ID, err)
		}
		got[ack.ID] = ack
	}
	if ack := got["ok"]; ack.Status != AckOK || ack.ConfigHash != Token(good.Hash()) {
		t.Errorf("ack of a good configuration = %+v, want ok with hash %s", ack, good.Hash())
	}
	if ack := got["pin"]; ack.Status != AckRefused || ack.Reason != ReasonInvalidConfig || ack.ConfigHash == "" || ack.ConfigField != "panel.tamper" {
		t.Errorf("ack of a configuration invalid for the kiosk's panel = %+v, want refused invalid_config with a hash and the field panel.tamper", ack)
	}
	if ack := got["secret"]; ack.Status != AckRejected || ack.Reject != RejectMalformed {
		t.Errorf("ack of a configuration naming a secret's file = %+v, want rejected malformed", ack)
	}
	if ack := got["altered"]; ack.Status != AckRejected || ack.Reject != RejectBadSig {
		t.Errorf("ack of a configuration changed after signing = %+v, want rejected bad_signature", ack)
	}
	if len(h.got) != 2 {
		t.Errorf("handler saw %d configurations, want 2 (the rejected never reach it)", len(h.got))
	}
	a.opts.Handler = &nopHandler{}
	a.handleCommand(ctx, cmd("unsupported", `{"language":"en"}`, nil))
	if acks := queuedAcks(a); len(acks) != 1 || acks[0].Reason != ReasonUnsupported {
		t.Errorf("a handler that takes no configuration: acks %+v, want refused unsupported", acks)
	}
}

func TestSetConfigHash(t *testing.T) {
	s, _ := testKeys(t)
	a, _ := newTestAgent(t, s, 4)
	a.SetConfigHash("sha256:abc")
	if got := a.configHash(); got != "sha256:abc" {
		t.Errorf("configHash = %q", got)
	}
}
