package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
)

// Central configuration on the kiosk (issue 19): fleetd sends the merged
// desired configuration (fleet, groups, this kiosk) as a signed
// apply_config; the kiosk checks it over its own config.json by the same
// rules as -check-config, keeps it in central.json, and restarts onto it
// once nobody is in a session. At start central.json is laid over
// config.json (before -set). The kiosk reports config.EffectiveHash of
// what it runs for the central configuration's fields, so fleetd sees a
// refused or not yet applied one as drift.

// sessionPoll is how often a pending central configuration looks for the
// end of the current session.
const sessionPoll = time.Second

// withStoredCentral lays the central configuration kept in dir over cfg.
// One that no longer fits (config.json changed since) is left out with a
// warning: the kiosk runs on its own configuration and reports the drift.
func withStoredCentral(dir string, cfg config.Config) config.Config {
	o, err := config.LoadOverlay(dir)
	if err != nil {
		slog.Warn("central configuration not applied: unreadable", "err", err)
		return cfg
	}
	if len(o) == 0 {
		return cfg
	}
	c, err := o.Apply(cfg)
	if err != nil {
		slog.Warn("central configuration not applied: it does not fit this kiosk's config.json", "config_hash", o.Hash(), "problems", err.Error())
		return cfg
	}
	return c
}

// storedCentralHash is what the kiosk reports for its central
// configuration running cfg: the hash of cfg's values for the fields of
// the central configuration it keeps ("" in -demo, which has none).
func storedCentralHash(o options, cfg config.Config) fleet.Token {
	if o.demo {
		return ""
	}
	ov, err := config.LoadOverlay(o.configDir)
	if err != nil {
		ov = config.Overlay{}
	}
	return fleet.Token(config.EffectiveHash(cfg, ov))
}

// ApplyConfig checks a central configuration over config.json and -set,
// keeps it, and restarts onto it between sessions. Refused, the running
// configuration stays, and the hash says what runs for those fields.
func (h fleetHandler) ApplyConfig(ctx context.Context, ov config.Overlay) (fleet.Token, error) {
	kf := h.kf
	running := fleet.Token(config.EffectiveHash(kf.cfg, ov))
	if kf.o.demo {
		return running, fmt.Errorf("apply_config: a -demo kiosk has no config.json: %w", fleet.ErrUnsupported)
	}
	next, err := configWith(kf.o, ov)
	if err != nil {
		kf.countError(fleet.ErrKindConfig)
		kf.log.Warn("central configuration refused, keeping the running one", "config_hash", ov.Hash(), "problems", err.Error())
		return running, fmt.Errorf("apply_config: %w: %w", fleet.ErrInvalidConfig, err)
	}
	if err := writeDurable(filepath.Join(kf.o.configDir, config.CentralFileName), ov.JSON()); err != nil {
		return running, fmt.Errorf("apply_config: keep it: %w", err)
	}
	hash := fleet.Token(config.EffectiveHash(next, ov))
	if reflect.DeepEqual(next, kf.cfg) {
		// Nothing to change: the kiosk already runs it.
		kf.log.Info("central configuration kept; it changes nothing that runs", "config_hash", string(hash))
		if kf.setHash != nil {
			kf.setHash(hash)
		}
		return hash, nil
	}
	kf.log.Info("central configuration accepted; restarting onto it once no session is in progress", "config_hash", string(hash))
	go kf.restartBetweenSessions()
	return hash, nil
}

// configWith is the configuration the kiosk would run with central
// configuration ov: config.json, ov, then -set, validated.
func configWith(o options, ov config.Overlay) (config.Config, error) {
	cfg, err := config.Load(o.configDir)
	if err != nil {
		return cfg, err
	}
	if cfg, err = ov.Apply(cfg); err != nil {
		return cfg, err
	}
	if err := applySets(&cfg, o); err != nil {
		return cfg, err
	}
	if ps := cfg.Validate(); len(ps) > 0 {
		return cfg, ps
	}
	return cfg, nil
}

// restartBetweenSessions restarts the kiosk once its ack has left and no
// session is in progress: the check and the restart happen on the
// wizard's goroutine, so no session can begin between them. A second call
// while one waits does nothing.
func (kf *kioskFleet) restartBetweenSessions() {
	if !kf.pendingRestart.CompareAndSwap(false, true) {
		return
	}
	kf.drainAgent()
	for {
		var done bool
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := kf.k.Query(ctx, func(st appliance.Status) {
			if !st.InSession {
				done = true
				kf.log.Info("restarting onto the central configuration")
				kf.restart(errRestartRequested)
			}
		})
		cancel()
		if done {
			return
		}
		if err != nil {
			kf.log.Debug("central configuration waits: wizard not answering", "err", err)
		}
		select {
		case <-kf.stopped:
			return
		case <-time.After(sessionPoll):
		}
	}
}

// writeDurable replaces name with b so that it survives power loss: a
// temporary file, fsync, rename, fsync of the directory.
func writeDurable(name string, b []byte) error {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
