package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/sim"
)

// runSimulate runs simulated kiosks against a fleetd: real fleet agents,
// or with -lean ten thousand light ones per process for load tests.
// Unless -credentials or -anonymous says otherwise, it first enrolls them
// through the fleetd at -addr (FLEETD_USER, FLEETD_PASSWORD).
func runSimulate(args []string) error {
	fs := flag.NewFlagSet("fleetd simulate", flag.ContinueOnError)
	n := fs.Int("n", 20, "number of kiosks")
	first := fs.Int("first", 0, "index of the first kiosk (several simulations side by side)")
	sites := fs.Int("sites", 0, "number of sites (default n/50+1, at most 40)")
	brokers := fs.String("broker", "mqtt://127.0.0.1:1883", "broker URLs, comma-separated: kiosk i connects to the (i mod count)th")
	ca := fs.String("ca", "", "broker CA (PEM), for mqtts")
	addr := fs.String("addr", envOr("FLEETD_ADDR", "http://127.0.0.1:8080"), "fleetd's dashboard URL, to enroll the kiosks")
	creds := fs.String("credentials", "", "read \"site/kiosk password\" lines from this file instead of enrolling")
	anonymous := fs.Bool("anonymous", false, "no credentials (an anonymous test broker)")
	data := fs.String("data", "", "fleetd's data directory, for the operator key (default: from the enrollment)")
	health := fs.Duration("health", 10*time.Second, "health interval")
	ramp := fs.Duration("ramp", 0, "spread the connections over this long (default n×2 ms)")
	lean := fs.Bool("lean", false, "light kiosks that speak the protocol without running commands (load tests)")
	statsEvery := fs.Duration("stats", 0, "print counters this often (lean)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *sites <= 0 {
		*sites = min((*first+*n)/50+1, 40)
	}
	if *ramp <= 0 {
		*ramp = time.Duration(*n) * 2 * time.Millisecond
	}
	refs := make([]fleet.KioskRef, *n)
	names := make([]string, *n)
	for i := range refs {
		refs[i] = sim.Ref(*first+i, *sites)
		names[i] = refs[i].String()
	}
	pw, opKey, err := simCredentials(*addr, *creds, *anonymous, names)
	if err != nil {
		return err
	}
	if *data != "" {
		signer, err := loadSigner(*data)
		if err != nil {
			return err
		}
		opKey = signer.PublicLine()
	}
	urls := strings.Split(*brokers, ",")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("simulating %d kiosks against %s, health every %v; Ctrl-C stops\n", *n, *brokers, *health)
	if *lean {
		o := sim.LeanOptions{HealthInterval: *health, Ramp: *ramp}
		for i, r := range refs {
			o.Kiosks = append(o.Kiosks, sim.LeanKiosk{Ref: r, BrokerURL: urls[i%len(urls)], Password: pw[r.String()]})
		}
		var st sim.LeanStats
		if *statsEvery > 0 {
			go func() {
				for range time.Tick(*statsEvery) {
					fmt.Printf("lean: connected=%d connects=%d refused=%d health=%d write_errors=%d\n", st.Connected.Load(),
						st.Connects.Load(), st.Refused.Load(), st.HealthSent.Load(), st.WriteErrors.Load())
				}
			}()
		}
		return sim.RunLean(ctx, o, &st)
	}
	if opKey == "" {
		return fmt.Errorf("simulate: no operator key: enroll through -addr, or give -data")
	}
	if len(urls) > 1 {
		return fmt.Errorf("simulate: real agents use one broker; -lean spreads over several")
	}
	dir, err := os.MkdirTemp("", "fleetd-simulate-")
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	defer os.RemoveAll(dir)
	var st sim.Stats
	return sim.Run(ctx, sim.Options{N: *n, First: *first, Sites: *sites, BrokerURL: urls[0], CAFile: *ca, Dir: dir,
		Password:       func(k fleet.KioskRef) string { return pw[k.String()] },
		OperatorKeys:   opKey,
		HealthInterval: *health, Ramp: *ramp}, &st)
}

// simCredentials returns each kiosk's password and the operator key line:
// enrolled through fleetd, read from a file, or none.
func simCredentials(addr, file string, anonymous bool, names []string) (map[string]string, string, error) {
	pw := map[string]string{}
	switch {
	case anonymous:
		return pw, "", nil
	case file != "":
		f, err := os.Open(filepath.Clean(file))
		if err != nil {
			return nil, "", fmt.Errorf("simulate: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, p, ok := strings.Cut(strings.TrimSpace(sc.Text()), " "); ok {
				pw[k] = p
			}
		}
		return pw, "", sc.Err()
	}
	cs, err := newAPIClient(addr).enroll(names)
	if err != nil {
		return nil, "", fmt.Errorf("simulate: enroll: %w", err)
	}
	key := ""
	for _, c := range cs {
		pw[c.Kiosk], key = c.Password, c.OperatorKey
	}
	return pw, key, nil
}
