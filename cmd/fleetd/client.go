package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/broker"
	"github.com/nhikiosk/nhikiosk/fleet/manager"
)

// runClient runs the CLI subcommands that talk to a running fleetd's JSON
// API, as FLEETD_USER (default admin) with FLEETD_PASSWORD.
func runClient(sub string, args []string) error {
	fs := flag.NewFlagSet("fleetd "+sub, flag.ContinueOnError)
	addr := fs.String("addr", envOr("FLEETD_ADDR", "http://127.0.0.1:8080"), "fleetd's dashboard URL")
	site := fs.String("site", "", "kiosks: only this site")
	status := fs.String("status", "", "kiosks: only this status")
	wait := fs.Duration("wait", 30*time.Second, "cmd: how long to wait for the kiosk's answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c := apiClient{base: strings.TrimRight(*addr, "/"), user: envOr("FLEETD_USER", "admin"), pass: os.Getenv("FLEETD_PASSWORD"),
		http: &http.Client{Timeout: 15 * time.Second}}
	switch sub {
	case "kiosks":
		var ks []manager.Kiosk
		if err := c.do("GET", "/api/v1/kiosks?"+url.Values{"site": {*site}, "status": {*status}}.Encode(), nil, &ks); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KIOSK\tSTATUS\tVERSION\tALERTS\tLAST SEEN")
		for _, k := range ks {
			var as []string
			for _, a := range k.Alerts {
				as = append(as, string(a.Kind))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.Name, k.Status, k.Version(), strings.Join(as, ","), k.LastSeen.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	case "alerts":
		var as []manager.Alert
		if err := c.do("GET", "/api/v1/alerts", nil, &as); err != nil {
			return err
		}
		for _, a := range as {
			ack := ""
			if a.Acked {
				ack = " (acknowledged by " + a.AckedBy + ")"
			}
			fmt.Printf("%s\t%s\tsince %s%s\n", a.Kiosk, a.Kind, a.Since.UTC().Format(time.RFC3339), ack)
		}
		return nil
	}
	return c.command(fs.Args(), *wait)
}

func (c apiClient) command(args []string, wait time.Duration) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: fleetd cmd SITE/KIOSK COMMAND [LANGUAGE]; commands: %v", fleet.Commands)
	}
	req := map[string]string{"name": args[1]}
	if len(args) > 2 {
		req["language"] = args[2]
	}
	var rec manager.CommandRecord
	if err := c.do("POST", "/api/v1/kiosks/"+args[0]+"/commands", req, &rec); err != nil {
		return err
	}
	fmt.Printf("sent %s to %s (id %s)\n", rec.Name, rec.Kiosk, rec.ID)
	for end := time.Now().Add(wait); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		if err := c.do("GET", "/api/v1/commands/"+string(rec.ID), nil, &rec); err != nil {
			return err
		}
		if a := rec.Ack; a != nil {
			fmt.Printf("answer: %s %s%s\n", a.Status, a.Reason, a.Reject)
			if a.Status != fleet.AckOK {
				return fmt.Errorf("kiosk answered %s", a.Status)
			}
			return nil
		}
	}
	return fmt.Errorf("no answer within %v (the kiosk may be offline)", wait)
}

type apiClient struct {
	base, user, pass string
	http             *http.Client
}

func (c apiClient) do(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.SetBasicAuth(c.user, c.pass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", method, path, err)
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// runCredentials prints a kiosk's broker user name and password for the
// embedded broker of the fleetd whose data directory is -data.
func runCredentials(args []string) error {
	fs := flag.NewFlagSet("fleetd kiosk-credentials", flag.ContinueOnError)
	data := fs.String("data", "fleetd-data", "fleetd's data directory")
	operator := fs.Bool("operator", false, "print the operator user's credentials instead (for a standby fleetd or a tool)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *operator {
		secret, err := loadOrCreate(filepath.Join(*data, secretFile), 32)
		if err != nil {
			return err
		}
		fmt.Printf("user: fleetd\npassword: %s\n", broker.OperatorPassword(secret, "fleetd"))
		return nil
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: fleetd kiosk-credentials [-data DIR] SITE/KIOSK")
	}
	k, err := fleet.ParseKioskRef(fs.Arg(0))
	if err != nil {
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
	fmt.Printf("mqtt.username: %s\nmqtt password (put it in mqtt.password_file): %s\noperator_keys_file line: %s\n",
		k.Username(), broker.KioskPassword(secret, k), signer.PublicLine())
	return nil
}

// runUserAdd adds an account to a stopped fleetd's database and prints its
// password.
func runUserAdd(args []string) error {
	fs := flag.NewFlagSet("fleetd useradd", flag.ContinueOnError)
	data := fs.String("data", "fleetd-data", "fleetd's data directory (fleetd must be stopped)")
	role := fs.String("role", manager.RoleViewer, "viewer or operator")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: fleetd useradd [-data DIR] [-role viewer|operator] NAME")
	}
	store, err := manager.OpenStore(filepath.Join(*data, dbFile))
	if err != nil {
		return fmt.Errorf("%w (is fleetd running? stop it first)", err)
	}
	defer store.Close()
	pw := manager.NewPassword()
	if err := store.SetUser(fs.Arg(0), *role, pw); err != nil {
		return err
	}
	fmt.Printf("user %s (%s), password %s\n", fs.Arg(0), *role, pw)
	return nil
}

func loadServerTLS(cert, key string) (*tls.Config, error) {
	c, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("load broker certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS12}, nil
}
