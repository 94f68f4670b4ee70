package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// MaxCommandSize bounds a /cmd payload the kiosk will parse.
const MaxCommandSize = 4 << 10

func (a *Agent) commandLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-a.cmds:
			a.handleCommand(ctx, m.Payload())
		}
	}
}

// handleCommand verifies one command, runs it once, and acknowledges it.
func (a *Agent) handleCommand(ctx context.Context, payload []byte) {
	now := a.opts.Now()
	var c Command
	if len(payload) > MaxCommandSize {
		a.reject(Command{}, RejectMalformed, fmt.Errorf("command of %d bytes", len(payload)))
		return
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		a.reject(Command{}, RejectMalformed, fmt.Errorf("parse command: %w", err))
		return
	}
	if reason, err := a.keys.Verify(c, a.id.Kiosk, now); err != nil {
		a.reject(c, reason, err)
		return
	}
	if !a.seen.add(c.ID, c.Expires, now) {
		// Answered once already: no second execution and no second ack.
		a.reject(c, RejectReplay, fmt.Errorf("command id %s seen before", c.ID))
		return
	}
	a.log.Info("fleet command accepted", "cmd", string(c.Name), "id", string(c.ID), "key", string(c.KeyID))
	ack := a.run(ctx, c)
	b, _ := json.Marshal(ack)
	a.enqueue(outMsg{Topic(a.id.Kiosk, ChanAck), b, 1, false})
	if ack.Status == AckOK && (c.Name == CmdReboot || c.Name == CmdRestart) {
		a.afterAck(ctx, c.Name)
	}
}

func (a *Agent) reject(c Command, reason RejectReason, err error) {
	a.rejected.Add(1)
	id := c.ID
	if !id.Valid() {
		id = ""
	}
	a.log.Warn("fleet command rejected", "reason", string(reason), "id", string(id), "err", err)
	a.Event(EvCommandRejected, EventFields{Reject: reason, CommandID: id})
	if id != "" && reason != RejectReplay {
		b, _ := json.Marshal(Ack{V: SchemaVersion, TS: a.opts.Now().UTC(), ID: id, Status: AckRejected, Reject: reason})
		a.enqueue(outMsg{Topic(a.id.Kiosk, ChanAck), b, 1, false})
	}
}

func (a *Agent) run(ctx context.Context, c Command) Ack {
	ack := Ack{V: SchemaVersion, ID: c.ID, Name: c.Name}
	cctx, cancel := context.WithTimeout(ctx, a.opts.CommandTimeout)
	defer cancel()
	h := a.opts.Handler
	var err error
	switch c.Name {
	case CmdReboot, CmdRestart:
		// Acknowledged before it happens: after it, nobody is left to ack.
	case CmdMaintenanceOn, CmdMaintenanceOff:
		on := c.Name == CmdMaintenanceOn
		if err = h.SetMaintenance(cctx, on); err == nil {
			a.SetMaintenance(on)
			kind := EvMaintenanceOff
			if on {
				kind = EvMaintenanceOn
			}
			a.Event(kind, EventFields{CommandID: c.ID})
		}
	case CmdSetLanguage:
		err = h.SetLanguage(cctx, c.Language)
	case CmdReloadConfig:
		if err = h.ReloadConfig(cctx); err == nil {
			a.Event(EvConfigReloaded, EventFields{CommandID: c.ID})
		}
	case CmdApplyConfig:
		ack.ConfigHash, err = a.applyConfig(cctx, c)
		ack.ConfigField = configField(err)
	case CmdSelfTest:
		var st SelfTest
		st, err = h.SelfTest(cctx)
		if err == nil {
			ack.SelfTest = &st
		}
	case CmdScreenshot:
		var png []byte
		png, err = h.Screenshot(cctx)
		if err == nil && len(png) > MaxScreenshot {
			err = fmt.Errorf("screenshot of %d bytes: %w", len(png), ErrUnsupported)
		}
		if err == nil {
			ack.ScreenshotPNG = png
		}
	}
	ack.Status, ack.Reason = reasonFor(err)
	if err != nil {
		a.log.Warn("fleet command not done", "cmd", string(c.Name), "id", string(c.ID), "err", err)
	}
	ack.TS = a.opts.Now().UTC()
	return ack
}

// afterAck reboots or restarts once the ack has had a moment to leave.
func (a *Agent) afterAck(ctx context.Context, name CommandName) {
	deadline := time.Now().Add(3 * time.Second)
	for len(a.out) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cctx, cancel := context.WithTimeout(ctx, a.opts.CommandTimeout)
	defer cancel()
	var err error
	if name == CmdReboot {
		err = a.opts.Handler.Reboot(cctx)
	} else {
		err = a.opts.Handler.Restart(cctx)
	}
	if err != nil {
		a.log.Error("fleet command failed after ack", "cmd", string(name), "err", err)
	}
}

// seenIDs remembers accepted command ids until they expire, optionally in
// a file so replays stay refused across a restart.
type seenIDs struct {
	mu   sync.Mutex
	ids  map[Token]time.Time
	file string
}

func loadSeen(dir string) (*seenIDs, error) {
	s := &seenIDs{ids: map[Token]time.Time{}}
	if dir == "" {
		return s, nil
	}
	s.file = filepath.Join(dir, "fleet-commands-seen.json")
	b, err := os.ReadFile(s.file)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read seen commands: %w", err)
	}
	if err := json.Unmarshal(b, &s.ids); err != nil {
		// A damaged file must not stop the kiosk; commands expire anyway.
		s.ids = map[Token]time.Time{}
	}
	return s, nil
}

// add records id and reports whether it was new.
func (s *seenIDs) add(id Token, expires, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, exp := range s.ids {
		if now.After(exp.Add(time.Minute)) {
			delete(s.ids, k)
		}
	}
	if _, dup := s.ids[id]; dup {
		return false
	}
	s.ids[id] = expires
	if s.file != "" {
		b, _ := json.Marshal(s.ids)
		if err := writeFileAtomic(s.file, b); err != nil {
			// Still refused in memory; only a restart could forget it.
			return true
		}
	}
	return true
}

// writeFileAtomic writes b to name: temp file, fsync, rename, dir fsync.
func writeFileAtomic(name string, b []byte) error {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("rename %s: %w", name, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
