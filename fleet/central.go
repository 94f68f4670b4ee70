package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/nhikiosk/nhikiosk/config"
)

// ConfigApplier is a CommandHandler that takes central configurations
// (issue 19: fleetd's desired configuration for the fleet, a group and the
// kiosk, already merged). The agent has checked the command and parsed the
// overlay; ApplyConfig checks it against the kiosk's own configuration by
// config's rules (Overlay.Apply), keeps it, and has the kiosk run it once
// no session is in progress. It returns the hash the kiosk reports for
// central configuration (config.EffectiveHash): the new configuration's
// when accepted; the one it keeps when refused with ErrInvalidConfig. A
// handler that is no ConfigApplier refuses apply_config as unsupported.
type ConfigApplier interface {
	ApplyConfig(ctx context.Context, o config.Overlay) (Token, error)
}

// appendConfigLine adds apply_config's configuration to the signed bytes.
func appendConfigLine(b, doc []byte) []byte {
	sum := sha256.Sum256(doc)
	return fmt.Appendf(b, "config=%s\n", hex.EncodeToString(sum[:]))
}

// validateConfig checks apply_config's configuration: a central
// configuration of managed fields only.
func (c Command) validateConfig() error {
	if c.Language != "" {
		return fmt.Errorf("command: %s takes no language", c.Name)
	}
	if len(c.Config) == 0 {
		return fmt.Errorf("command: %s without a configuration", c.Name)
	}
	if _, err := config.ParseOverlay(c.Config); err != nil {
		return fmt.Errorf("command: %s: %v", c.Name, err)
	}
	return nil
}

// applyConfig hands a verified apply_config to the handler.
func (a *Agent) applyConfig(ctx context.Context, c Command) (Token, error) {
	ca, ok := a.opts.Handler.(ConfigApplier)
	if !ok {
		return a.configHash(), fmt.Errorf("apply_config: %w", ErrUnsupported)
	}
	o, err := config.ParseOverlay(c.Config)
	if err != nil { // Validate passed, so this cannot happen
		return a.configHash(), fmt.Errorf("apply_config: %w: %w", ErrInvalidConfig, err)
	}
	h, err := ca.ApplyConfig(ctx, o)
	if err == nil && h != "" && h.Valid() {
		a.log.Info("fleet central configuration accepted", "config_hash", string(h))
	}
	if !h.Valid() {
		h = ""
	}
	return h, err
}

// configField is the first field a refused configuration's problems
// name, if it is a field path.
func configField(err error) Token {
	var ps config.Problems
	if errors.As(err, &ps) && len(ps) > 0 && Token(ps[0].Field).Valid() && config.IsField(ps[0].Field) {
		return Token(ps[0].Field)
	}
	return ""
}

// SetConfigHash changes the configuration hash the kiosk reports in its
// birth (Identity.ConfigHash) and publishes the new birth: the kiosk now
// runs another central configuration without having restarted.
func (a *Agent) SetConfigHash(h Token) {
	a.mu.Lock()
	changed := a.cfgHash != h
	a.cfgHash = h
	a.mu.Unlock()
	if changed && a.client.IsConnectionOpen() {
		a.publishState(a.client)
	}
}

func (a *Agent) configHash() Token {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cfgHash
}
