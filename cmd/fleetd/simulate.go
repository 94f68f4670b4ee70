package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/broker"
	"github.com/nhikiosk/nhikiosk/fleet/sim"
)

// runSimulate runs N simulated kiosks (real fleet agents) against the
// embedded broker of the fleetd whose data directory is -data.
func runSimulate(args []string) error {
	fs := flag.NewFlagSet("fleetd simulate", flag.ContinueOnError)
	n := fs.Int("n", 20, "number of kiosks")
	sites := fs.Int("sites", 0, "number of sites (default n/50+1)")
	brokerURL := fs.String("broker", "mqtt://127.0.0.1:1883", "broker URL")
	ca := fs.String("ca", "", "broker CA (PEM), for mqtts")
	data := fs.String("data", "fleetd-data", "the fleetd data directory (for kiosk passwords and the operator key)")
	health := fs.Duration("health", 10*time.Second, "health interval")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secret, err := loadOrCreate(filepath.Join(*data, secretFile), 32)
	if err != nil {
		return err
	}
	signer, err := loadSigner(*data)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "fleetd-simulate-")
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	defer os.RemoveAll(dir)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("simulating %d kiosks against %s, health every %v; Ctrl-C stops\n", *n, *brokerURL, *health)
	var st sim.Stats
	return sim.Run(ctx, sim.Options{N: *n, Sites: *sites, BrokerURL: *brokerURL, CAFile: *ca, Dir: dir,
		Password:       func(k fleet.KioskRef) string { return broker.KioskPassword(secret, k) },
		OperatorKeys:   signer.PublicLine(),
		HealthInterval: *health}, &st)
}
