// Command fleetd is the fleet manager: with no flags it starts an embedded
// MQTT broker and the web dashboard on loopback and prints where to open
// it. Subcommands talk to a running fleetd (kiosks, cmd, alerts), hand out
// kiosk credentials, add users, and simulate kiosks (simulate).
//
// See docs/fleet.md.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"github.com/nhikiosk/nhikiosk/internal/httpserve"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/broker"
	"github.com/nhikiosk/nhikiosk/fleet/manager"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fleetd:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, rest := args[0], args[1:]
		switch sub {
		case "kiosks", "alerts", "cmd":
			return runClient(sub, rest)
		case "kiosk-credentials":
			return runCredentials(rest)
		case "useradd":
			return runUserAdd(rest)
		case "simulate":
			return runSimulate(rest)
		}
		return fmt.Errorf("unknown subcommand %q (serve with no subcommand; kiosks, alerts, cmd, kiosk-credentials, useradd, simulate)", sub)
	}
	return serve(args)
}

type serveFlags struct {
	data, httpAddr, mqttAddr, tlsCert, tlsKey string
	brokerURL, brokerUser, brokerPassFile     string
	brokerCA                                  string
	retention, historyEvery                   time.Duration
	memoryLimit                               int64
}

func serve(args []string) error {
	var f serveFlags
	fs := flag.NewFlagSet("fleetd", flag.ContinueOnError)
	fs.StringVar(&f.data, "data", "fleetd-data", "directory for the history database, keys and secrets")
	fs.StringVar(&f.httpAddr, "http", "127.0.0.1:8080", "dashboard, API and /metrics listen address")
	fs.StringVar(&f.mqttAddr, "mqtt", "127.0.0.1:1883", "embedded broker's listen address for kiosks")
	fs.StringVar(&f.tlsCert, "mqtt-tls-cert", "", "certificate (PEM) for the embedded broker: makes it mqtts")
	fs.StringVar(&f.tlsKey, "mqtt-tls-key", "", "its private key (PEM)")
	fs.StringVar(&f.brokerURL, "broker", "", "use this external broker instead of the embedded one (mqtts://host:8883)")
	fs.StringVar(&f.brokerUser, "broker-user", "fleetd", "user name at the external broker")
	fs.StringVar(&f.brokerPassFile, "broker-password-file", "", "file with the external broker password")
	fs.StringVar(&f.brokerCA, "broker-ca", "", "CA bundle (PEM) of the external broker")
	fs.DurationVar(&f.retention, "retention", 30*24*time.Hour, "how long events, health, commands and audit are kept")
	fs.DurationVar(&f.historyEvery, "history-every", time.Minute, "store at most one health sample per kiosk this often")
	fs.Int64Var(&f.memoryLimit, "memory-limit-mib", 768, "soft memory limit for the Go runtime (0: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.memoryLimit > 0 {
		debug.SetMemoryLimit(f.memoryLimit << 20)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveCtx(ctx, f, os.Stdout)
}

// files in the data directory
const (
	secretFile   = "broker.secret" // derives kiosk passwords and fleetd's own
	operatorFile = "operator.key"  // Ed25519 seed that signs commands
	dbFile       = "fleetd.db"
)

func serveCtx(ctx context.Context, f serveFlags, out *os.File) error {
	log := slog.Default()
	if err := os.MkdirAll(f.data, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	secret, err := loadOrCreate(filepath.Join(f.data, secretFile), 32)
	if err != nil {
		return err
	}
	signer, err := loadSigner(f.data)
	if err != nil {
		return err
	}
	store, err := manager.OpenStore(filepath.Join(f.data, dbFile))
	if err != nil {
		return err
	}
	defer store.Close()
	firstPassword, err := ensureAdmin(store)
	if err != nil {
		return err
	}
	opts := manager.Options{Store: store, Signer: signer, Retention: f.retention, HistoryEvery: f.historyEvery, Logger: log}
	var brk *broker.Broker
	if f.brokerURL == "" {
		internal := broker.OperatorPassword(secret, "fleetd")
		bc := broker.Config{Addr: f.mqttAddr, Secret: secret, Operators: map[string]string{"fleetd": internal},
			LocalAddr: "127.0.0.1:0", Logger: log}
		if f.tlsCert != "" {
			if bc.TLS, err = loadServerTLS(f.tlsCert, f.tlsKey); err != nil {
				return err
			}
		}
		if brk, err = broker.Start(bc); err != nil {
			return err
		}
		defer brk.Close()
		opts.Broker = config.MQTT{BrokerURL: "mqtt://" + brk.LocalAddr(), Username: "fleetd"}
		opts.Password = internal
		opts.Subscribe = brk.Subscribe
	} else {
		opts.Broker = config.MQTT{BrokerURL: f.brokerURL, Username: f.brokerUser, PasswordFile: f.brokerPassFile, CAFile: f.brokerCA}
	}
	m, err := manager.New(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.httpAddr)
	if err != nil {
		return fmt.Errorf("listen for the dashboard: %w", err)
	}
	srv := &http.Server{Handler: manager.NewWeb(m), ReadHeaderTimeout: 10 * time.Second}
	printBanner(out, ln.Addr().String(), brk, f, firstPassword, signer)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return m.Run(ctx) })
	g.Go(func() error { return httpserve.HTTP(ctx, "dashboard", srv, ln) })
	return g.Wait()
}

func printBanner(out *os.File, httpAddr string, brk *broker.Broker, f serveFlags, pw string, s fleet.Signer) {
	fmt.Fprintf(out, "fleetd: dashboard  http://%s/\n", httpAddr)
	if pw != "" {
		fmt.Fprintf(out, "fleetd: first start: log in as admin with the one-time password %s\n", pw)
		fmt.Fprintf(out, "fleetd: (it is not shown again; add accounts with: fleetd useradd -data %s NAME)\n", f.data)
	}
	if brk != nil {
		scheme := "mqtt"
		if f.tlsCert != "" {
			scheme = "mqtts"
		}
		fmt.Fprintf(out, "fleetd: embedded broker %s://%s  (kiosk credentials: fleetd kiosk-credentials -data %s SITE/KIOSK)\n", scheme, brk.Addr(), f.data)
	} else {
		fmt.Fprintf(out, "fleetd: external broker %s\n", f.brokerURL)
	}
	fmt.Fprintf(out, "fleetd: operator key for kiosks' operator_keys_file: %s\n", s.PublicLine())
}

func ensureAdmin(store *manager.Store) (string, error) {
	has, err := store.HasUsers()
	if err != nil || has {
		return "", err
	}
	pw := manager.NewPassword()
	return pw, store.SetUser("admin", manager.RoleOperator, pw)
}

func loadOrCreate(path string, n int) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		v, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(v) != n {
			return nil, fmt.Errorf("read %s: not %d base64 bytes", path, n)
		}
		return v, nil
	}
	if !os.IsNotExist(err) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	v := make([]byte, n)
	rand.Read(v)
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(v)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return v, nil
}

func loadSigner(dir string) (fleet.Signer, error) {
	seed, err := loadOrCreate(filepath.Join(dir, operatorFile), ed25519.SeedSize)
	if err != nil {
		return fleet.Signer{}, err
	}
	key := ed25519.NewKeyFromSeed(seed)
	id := base64.RawURLEncoding.EncodeToString(key.Public().(ed25519.PublicKey)[:6])
	return fleet.Signer{KeyID: fleet.Token("fleetd-" + id), Key: key}, nil
}
