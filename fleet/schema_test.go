package fleet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
)

// TestPayloadsCarryNoFreeText walks every payload type: a string may only
// appear as an enumeration or a Token (both checked by Validate), so there
// is no field where a name, ID number or address could be put.
func TestPayloadsCarryNoFreeText(t *testing.T) {
	allowed := map[reflect.Type]bool{}
	for _, v := range []any{Token(""), Lifecycle(""), AbortReason(""), ErrorKind(""), EventKind(""),
		CardErrorKind(""), RejectReason(""), CommandName(""), AckStatus(""), AckReason(""), ClockSource("")} {
		allowed[reflect.TypeOf(v)] = true
	}
	// Command's site, kiosk and language are checked by Validate against
	// the name pattern and the language list.
	cmdFields := map[string]bool{"Site": true, "Kiosk": true, "Language": true}
	var walk func(path string, ty reflect.Type)
	walk = func(path string, ty reflect.Type) {
		switch ty.Kind() {
		case reflect.String:
			if !allowed[ty] {
				t.Errorf("%s is a free-form %s", path, ty)
			}
		case reflect.Pointer, reflect.Slice:
			if ty.Elem().Kind() != reflect.Uint8 {
				walk(path+"[]", ty.Elem())
			}
		case reflect.Map:
			walk(path+"{key}", ty.Key())
			walk(path+"{}", ty.Elem())
		case reflect.Struct:
			if ty == reflect.TypeOf(time.Time{}) {
				return
			}
			for i := range ty.NumField() {
				f := ty.Field(i)
				if ty == reflect.TypeOf(Command{}) && cmdFields[f.Name] {
					continue
				}
				walk(path+"."+f.Name, f.Type)
			}
		}
	}
	for _, v := range []any{State{}, Health{}, Event{}, Ack{}, Command{}} {
		walk(reflect.TypeOf(v).Name(), reflect.TypeOf(v))
	}
}

// TestTokenRefusesPersonalData: values shaped like personal data do not
// pass as Tokens, so Validate drops them.
func TestTokenRefusesPersonalData(t *testing.T) {
	for _, s := range []string{"測試一", "TEST ONE", "test.one@example.com", "Taipei City, No. 1", "A123456789", "id-A123456789"} {
		if Token(s).Valid() {
			t.Errorf("Token(%q).Valid() = true, want false", s)
		}
	}
	h := Health{V: 1, Reader: Reader{Name: "TEST ONE"}}
	if h.Validate() == nil {
		t.Error("health with a reader name containing a space validated")
	}
}

func testKeys(t *testing.T) (Signer, Keyring) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s := Signer{KeyID: "ops-1", Key: priv}
	kr, err := ParseKeyring([]byte("# operators\n\n" + s.PublicLine() + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return s, kr
}

func TestVerify(t *testing.T) {
	s, kr := testKeys(t)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	self := KioskRef{"taipei-branch", "k1"}
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	base := Command{V: 1, ID: "c1", Site: self.Site, Kiosk: self.Kiosk, Name: CmdReboot, Issued: now, Expires: now.Add(time.Minute)}
	signed := func(mod func(*Command)) Command {
		c := base
		mod(&c)
		s.Sign(&c)
		return c
	}
	tests := []struct {
		name string
		cmd  Command
		want RejectReason
	}{
		{"good", signed(func(*Command) {}), ""},
		{"unsigned", base, RejectUnsigned},
		{"forged by another key", func() Command { c := base; Signer{"ops-1", other}.Sign(&c); return c }(), RejectBadSig},
		{"altered after signing", func() Command { c := signed(func(*Command) {}); c.Name = CmdRestart; return c }(), RejectBadSig},
		{"unknown key", func() Command { c := base; Signer{"ops-9", other}.Sign(&c); return c }(), RejectUnknownKey},
		{"expired", signed(func(c *Command) { c.Expires = now }), RejectExpired},
		{"for another kiosk", signed(func(c *Command) { c.Kiosk = "k2" }), RejectWrongKiosk},
		{"too long lived", signed(func(c *Command) { c.Expires = now.Add(time.Hour) }), RejectTooFar},
		// Issue 14, finding 9: a command stamped 14 minutes ahead ran at once.
		{"issued 14 min in the future", signed(func(c *Command) {
			c.Issued, c.Expires = now.Add(14*time.Minute), now.Add(15*time.Minute)
		}), RejectNotYetValid},
		{"issued within the clock skew", signed(func(c *Command) { c.Issued = now.Add(MaxClockSkew) }), ""},
		{"bad language", signed(func(c *Command) { c.Name = CmdSetLanguage; c.Language = "fr" }), RejectMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := kr.Verify(tt.cmd, self, now)
			if got != tt.want {
				t.Errorf("Verify = %q, want %q", got, tt.want)
			}
		})
	}
}

type nopHandler struct{ calls []string }

func (h *nopHandler) Reboot(context.Context) error  { h.calls = append(h.calls, "reboot"); return nil }
func (h *nopHandler) Restart(context.Context) error { h.calls = append(h.calls, "restart"); return nil }
func (h *nopHandler) SetMaintenance(context.Context, bool) error {
	h.calls = append(h.calls, "maint")
	return nil
}
func (h *nopHandler) SetLanguage(context.Context, string) error { return nil }
func (h *nopHandler) ReloadConfig(context.Context) error        { return ErrInvalidConfig }
func (h *nopHandler) SelfTest(context.Context) (SelfTest, error) {
	return SelfTest{}, nil
}
func (h *nopHandler) Screenshot(context.Context) ([]byte, error) { return nil, ErrSessionActive }

func newTestAgent(t *testing.T, s Signer, queue int) (*Agent, *nopHandler) {
	dir := t.TempDir()
	keys := dir + "/keys"
	writeFileAtomic(keys, []byte(s.PublicLine()+"\n"))
	h := &nopHandler{}
	a, err := NewAgent(config.MQTT{BrokerURL: "mqtt://127.0.0.1:1", Username: "s.k", OperatorKeysFile: keys},
		Identity{Kiosk: KioskRef{"s", "k"}}, Options{Health: func() Health { return Health{} }, Handler: h, QueueSize: queue, StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return a, h
}

func queuedAcks(a *Agent) []Ack {
	var out []Ack
	for len(a.out) > 0 {
		m := <-a.out
		if strings.HasSuffix(m.topic, "/ack") {
			var ack Ack
			json.Unmarshal(m.payload, &ack)
			out = append(out, ack)
		}
	}
	return out
}

// TestAgentCommands runs commands through the agent without a broker:
// refusals by the handler become acks with reasons, a replay runs once,
// and the seen ids survive a restart of the agent.
func TestAgentCommands(t *testing.T) {
	s, _ := testKeys(t)
	a, h := newTestAgent(t, s, 64)
	cmd := func(id Token, name CommandName) []byte {
		now := time.Now()
		c := Command{V: 1, ID: id, Site: "s", Kiosk: "k", Name: name, Issued: now, Expires: now.Add(time.Minute)}
		s.Sign(&c)
		b, _ := json.Marshal(c)
		return b
	}
	ctx := context.Background()
	a.handleCommand(ctx, cmd("a", CmdMaintenanceOn))
	a.handleCommand(ctx, cmd("a", CmdMaintenanceOn))
	a.handleCommand(ctx, cmd("b", CmdScreenshot))
	a.handleCommand(ctx, cmd("c", CmdReloadConfig))
	a.handleCommand(ctx, []byte("{not json"))
	got := map[Token]Ack{}
	for _, ack := range queuedAcks(a) {
		if _, dup := got[ack.ID]; dup {
			t.Errorf("command %s answered twice", ack.ID)
		}
		got[ack.ID] = ack
	}
	if got["a"].Status != AckOK || got["b"].Reason != ReasonSessionActive || got["c"].Reason != ReasonInvalidConfig {
		t.Errorf("acks = %+v", got)
	}
	if len(h.calls) != 1 || !a.maint.Load() {
		t.Errorf("handler calls = %v, maintenance = %v; want one call, on", h.calls, a.maint.Load())
	}
	if st := a.Stats(); st.Rejected != 2 {
		t.Errorf("Rejected = %d, want 2 (replay, malformed)", st.Rejected)
	}
	b, _ := newTestAgentSameDir(t, s, a)
	b.handleCommand(ctx, cmd("a", CmdMaintenanceOn))
	if st := b.Stats(); st.Rejected != 1 {
		t.Errorf("after restart: Rejected = %d, want the replay refused", st.Rejected)
	}
}

func newTestAgentSameDir(t *testing.T, s Signer, old *Agent) (*Agent, error) {
	a, err := NewAgent(old.cfg, old.id, Options{Health: old.opts.Health, Handler: old.opts.Handler, StateDir: old.opts.StateDir})
	if err != nil {
		t.Fatal(err)
	}
	return a, nil
}

// TestEventNeverBlocks: with nobody sending, a full queue drops and counts.
func TestEventNeverBlocks(t *testing.T) {
	s, _ := testKeys(t)
	a, _ := newTestAgent(t, s, 4)
	done := make(chan struct{})
	go func() {
		for range 100 {
			a.Event(EvTamper, EventFields{})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Event blocked")
	}
	if st := a.Stats(); st.Queued != 4 || st.Dropped != 96 {
		t.Errorf("Stats = %+v, want 4 queued and 96 dropped", st)
	}
	a.Event(EventKind("free text"), EventFields{})
	if st := a.Stats(); st.Dropped != 97 {
		t.Errorf("invalid event not dropped: %+v", st)
	}
}

func FuzzHandleCommand(f *testing.F) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s := Signer{KeyID: "ops-1", Key: priv}
	now := time.Now()
	c := Command{V: 1, ID: "x", Site: "s", Kiosk: "k", Name: CmdSelfTest, Issued: now, Expires: now.Add(time.Minute)}
	s.Sign(&c)
	b, _ := json.Marshal(c)
	f.Add(b)
	c = Command{V: 1, ID: "z", Site: "s", Kiosk: "k", Name: CmdApplyConfig, Config: json.RawMessage(`{"language":"en"}`),
		Issued: now, Expires: now.Add(time.Minute)}
	s.Sign(&c)
	b, _ = json.Marshal(c)
	f.Add(b)
	f.Add([]byte(`{"v":1,"id":"y","sig":"AAAA"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		a, _ := newTestAgent(t, s, 16)
		a.handleCommand(context.Background(), payload)
		for _, ack := range queuedAcks(a) {
			if err := ack.Validate(); err != nil {
				t.Errorf("agent made an invalid ack: %v", err)
			}
		}
	})
}

func FuzzParseKeyring(f *testing.F) {
	f.Add([]byte("ops-1 MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n# c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		kr, err := ParseKeyring(b)
		if err == nil && len(kr) == 0 {
			t.Error("empty keyring without error")
		}
	})
}

func FuzzParseTopic(f *testing.F) {
	f.Add("nhikiosk/v1/taipei/k1/state")
	f.Fuzz(func(t *testing.T, s string) {
		k, ch, err := ParseTopic(s)
		if err == nil && Topic(k, ch) != s {
			t.Errorf("Topic(ParseTopic(%q)) = %q", s, Topic(k, ch))
		}
	})
}
