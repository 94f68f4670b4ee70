package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
)

// newFleetAgent returns the kiosk's fleet agent when a broker is
// configured (nil, nil when none is): operator commands reach the wizard,
// health says which parts the kiosk runs on.
func newFleetAgent(cfg config.Config, k *appliance.Kiosk, log *slog.Logger) (*fleet.Agent, error) {
	if cfg.MQTT.BrokerURL == "" {
		return nil, nil
	}
	booted := time.Now()
	a, err := fleet.NewAgent(cfg.MQTT,
		fleet.Identity{Kiosk: fleet.KioskRef{Site: cfg.Site, Kiosk: cfg.KioskID}, BootTime: booted},
		fleet.Options{
			Health: func() fleet.Health {
				return fleet.Health{UptimeS: int64(time.Since(booted).Seconds()), Display: fleet.Token(cfg.Display.Backend)}
			},
			Handler:  fleetHandler{k: k},
			Logger:   log,
			StateDir: filepath.Join(cfg.DataDir, "fleet"),
		})
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	return a, nil
}

// fleetHandler carries out operator commands. Maintenance and the default
// language go to the wizard (which lets a session in progress finish);
// the others are not wired into the kiosk yet and are refused as
// unsupported, so the operator sees why.
type fleetHandler struct{ k *appliance.Kiosk }

func (h fleetHandler) SetMaintenance(_ context.Context, on bool) error {
	h.k.Post(appliance.Maintenance{On: on})
	return nil
}

func (h fleetHandler) SetLanguage(_ context.Context, lang string) error {
	h.k.Post(appliance.DefaultLanguage{Lang: lang})
	return nil
}

func (fleetHandler) Reboot(context.Context) error       { return notYet("reboot") }
func (fleetHandler) Restart(context.Context) error      { return notYet("restart") }
func (fleetHandler) ReloadConfig(context.Context) error { return notYet("reload_config") }

func (fleetHandler) SelfTest(context.Context) (fleet.SelfTest, error) {
	return fleet.SelfTest{}, notYet("self_test")
}

func (fleetHandler) Screenshot(context.Context) ([]byte, error) { return nil, notYet("screenshot") }

func notYet(cmd string) error {
	return fmt.Errorf("%s is not wired into the kiosk yet: %w", cmd, fleet.ErrUnsupported)
}
