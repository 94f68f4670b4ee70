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
	"crypto/tls"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
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
	"github.com/nhikiosk/nhikiosk/internal/boundlog"
	"github.com/nhikiosk/nhikiosk/internal/httpserve"
)

func main() {
	// No log line longer than this, whatever a stranger sends (issue 14).
	slog.SetDefault(slog.New(boundlog.New(slog.NewTextHandler(os.Stderr, nil), 1024)))
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
		case "groups", "tag", "job", "config":
			return runOps(sub, rest)
		case "kiosk":
			return runKiosk(rest)
		case "kiosk-credentials":
			return runCredentials(rest)
		case "useradd":
			return runUserAdd(rest)
		case "simulate":
			return runSimulate(rest)
		}
		return fmt.Errorf("unknown subcommand %q (serve with no subcommand; kiosks, alerts, cmd, groups, tag, job, config, kiosk enroll|revoke, kiosk-credentials, useradd, simulate)", sub)
	}
	return serve(args)
}

type serveFlags struct {
	data, httpAddr, mqttAddr, tlsCert, tlsKey string
	httpCert, httpKey                         string
	brokerURL, brokerUser, brokerPassFile     string
	brokerCA                                  string
	brokerDynsec, insecureListen              bool
	retention, historyEvery, healthEvery      time.Duration
	offlineAfter                              int
	memoryLimit                               int64
	timezone, publicURL                       string
	mail                                      manager.MailOptions
}

func serve(args []string) error {
	var f serveFlags
	fs := flag.NewFlagSet("fleetd", flag.ContinueOnError)
	fs.StringVar(&f.data, "data", "fleetd-data", "directory for the database, keys and secrets")
	fs.StringVar(&f.httpAddr, "http", "127.0.0.1:8080", "dashboard, API and /metrics listen address")
	fs.StringVar(&f.httpCert, "http-tls-cert", "", "certificate (PEM) for the dashboard: makes it HTTPS (and its cookie Secure)")
	fs.StringVar(&f.httpKey, "http-tls-key", "", "its private key (PEM)")
	fs.StringVar(&f.mqttAddr, "mqtt", "127.0.0.1:1883", "embedded broker's listen address for kiosks")
	fs.StringVar(&f.tlsCert, "mqtt-tls-cert", "", "certificate (PEM) for the embedded broker: makes it mqtts")
	fs.StringVar(&f.tlsKey, "mqtt-tls-key", "", "its private key (PEM)")
	fs.BoolVar(&f.insecureListen, "insecure-listen", false, "allow plain HTTP or MQTT on an address other than loopback")
	fs.StringVar(&f.brokerURL, "broker", "", "use these external brokers instead of the embedded one, comma-separated (mqtts://host:8883,…)")
	fs.StringVar(&f.brokerUser, "broker-user", "fleetd", "user name at the external broker")
	fs.StringVar(&f.brokerPassFile, "broker-password-file", "", "file with the external broker password")
	fs.StringVar(&f.brokerCA, "broker-ca", "", "CA bundle (PEM) of the external broker")
	fs.BoolVar(&f.brokerDynsec, "broker-dynsec", false, "manage kiosk credentials in the external brokers' Dynamic Security plugin (Mosquitto)")
	fs.DurationVar(&f.healthEvery, "health-interval", 30*time.Second, "health interval of kiosks that do not announce theirs")
	fs.IntVar(&f.offlineAfter, "offline-after", 3, "health intervals a kiosk may miss before it is offline and alerts")
	fs.DurationVar(&f.retention, "retention", 30*24*time.Hour, "how long events, health, commands and audit are kept")
	fs.DurationVar(&f.historyEvery, "history-every", time.Minute, "store at most one health sample per kiosk this often")
	fs.Int64Var(&f.memoryLimit, "memory-limit-mib", 768, "soft memory limit for the Go runtime (0: none)")
	fs.StringVar(&f.timezone, "timezone", manager.DefaultTimeZone, "time zone of the console's times and of notification rules' quiet hours")
	fs.StringVar(&f.publicURL, "public-url", "", "the console's address as people reach it, for links in notifications (https://fleet.example/)")
	fs.StringVar(&f.mail.Addr, "smtp", "", "SMTP server (host:port) for notification e-mails; STARTTLS when it offers it")
	fs.StringVar(&f.mail.From, "smtp-from", "nhikiosk-fleetd@localhost", "sender of notification e-mails")
	fs.StringVar(&f.mail.Username, "smtp-user", "", "SMTP user name (needs TLS, or a server on loopback)")
	fs.StringVar(&f.mail.PasswordFile, "smtp-password-file", "", "file with the SMTP password")
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

// errPlainListen refuses plain HTTP or MQTT beyond loopback (issue 14).
var errPlainListen = errors.New("refusing to serve plain text on a non-loopback address")

// checkListen refuses a plain listener on addr unless it is loopback or
// insecure is set.
func checkListen(what, addr string, tls, insecure bool) error {
	if tls || insecure || loopback(addr) {
		return nil
	}
	return fmt.Errorf("%s on %s: %w: give it a certificate, or -insecure-listen", what, addr, errPlainListen)
}

// loopback reports whether every address host of addr resolves to is a
// loopback address ("" and 0.0.0.0 are every interface).
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false
		}
	}
	return true
}

func serveCtx(ctx context.Context, f serveFlags, out io.Writer) error {
	log := slog.Default()
	httpTLS := f.httpCert != "" || f.httpKey != ""
	if err := checkListen("dashboard", f.httpAddr, httpTLS, f.insecureListen); err != nil {
		return err
	}
	if f.brokerURL == "" {
		if err := checkListen("embedded broker", f.mqttAddr, f.tlsCert != "", f.insecureListen); err != nil {
			return err
		}
	}
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
	loc, err := time.LoadLocation(f.timezone)
	if err != nil {
		return fmt.Errorf("-timezone %s: %w", f.timezone, err)
	}
	opts := manager.Options{Store: store, Signer: signer, Retention: f.retention, HistoryEvery: f.historyEvery, Logger: log,
		HealthEvery: f.healthEvery, OfflineAfter: f.offlineAfter, Location: loc, Mail: f.mail, PublicURL: f.publicURL}
	var brk *broker.Broker
	if f.brokerURL == "" {
		internal := broker.OperatorPassword(secret, "fleetd")
		bc := broker.Config{Addr: f.mqttAddr, Operators: map[string]string{"fleetd": internal},
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
		opts.Credentials = brk
	} else {
		urls := strings.Split(f.brokerURL, ",")
		opts.Broker = config.MQTT{BrokerURL: urls[0], Username: f.brokerUser, PasswordFile: f.brokerPassFile, CAFile: f.brokerCA}
		opts.Shards, opts.Dynsec = urls[1:], f.brokerDynsec
	}
	m, err := manager.New(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.httpAddr)
	if err != nil {
		return fmt.Errorf("listen for the dashboard: %w", err)
	}
	srv := &http.Server{Handler: manager.NewWeb(m), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	scheme := "http"
	if httpTLS {
		c, err := tls.LoadX509KeyPair(f.httpCert, f.httpKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("load dashboard certificate: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	printBanner(out, scheme+"://"+ln.Addr().String(), brk, f, firstPassword, signer)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return m.Run(ctx) })
	g.Go(func() error { return httpserve.HTTP(ctx, "dashboard", srv, ln) })
	return g.Wait()
}

func printBanner(out io.Writer, httpURL string, brk *broker.Broker, f serveFlags, pw string, s fleet.Signer) {
	fmt.Fprintf(out, "fleetd: dashboard  %s/\n", httpURL)
	if pw != "" {
		fmt.Fprintf(out, "fleetd: first start: log in as admin with the one-time password %s\n", pw)
		fmt.Fprintf(out, "fleetd: (it is not shown again; add accounts in the console's Users page)\n")
	}
	if brk != nil {
		scheme := "mqtt"
		if f.tlsCert != "" {
			scheme = "mqtts"
		}
		fmt.Fprintf(out, "fleetd: embedded broker %s://%s  (give a kiosk its credential: fleetd kiosk enroll SITE/KIOSK)\n", scheme, brk.Addr())
	} else {
		fmt.Fprintf(out, "fleetd: external broker %s\n", f.brokerURL)
	}
	fmt.Fprintf(out, "fleetd: operator key for kiosks' operator_keys_file: %s\n", s.PublicLine())
}

// ensureAdmin creates the first account, an admin, on first start. A
// database from before issue 19 has no admins: the account fleetd made
// at its first start (admin) becomes one, so users can be managed in the
// console.
func ensureAdmin(store *manager.Store) (string, error) {
	has, err := store.HasUsers()
	if err != nil {
		return "", err
	}
	if has {
		return "", store.PromoteFirstAdmin("admin")
	}
	pw := manager.NewPassword()
	return pw, store.SetUser("admin", manager.RoleAdmin, pw)
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
