package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
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
	c := newAPIClient(*addr)
	switch sub {
	case "kiosks":
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KIOSK\tSTATUS\tVERSION\tALERTS\tENROLLMENT\tLAST HEARD")
		q := url.Values{"site": {*site}, "status": {*status}, "limit": {"1000"}}
		for {
			var page manager.KioskList
			if err := c.do("GET", "/api/v1/kiosks?"+q.Encode(), nil, &page); err != nil {
				return err
			}
			for _, k := range page.Kiosks {
				var as []string
				for _, a := range k.Alerts {
					as = append(as, string(a.Kind))
				}
				enr := "-"
				switch {
				case k.Revoked():
					enr = "revoked"
				case k.Enrollment != nil:
					enr = "enrolled"
				}
				heard := "never"
				if !k.LastHeard.IsZero() {
					heard = k.LastHeard.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.Name, k.Status, k.Version(), strings.Join(as, ","), enr, heard)
			}
			if page.Next == "" {
				break
			}
			q.Set("after", page.Next)
		}
		return tw.Flush()
	case "alerts":
		var list manager.AlertList
		if err := c.do("GET", "/api/v1/alerts?limit=1000", nil, &list); err != nil {
			return err
		}
		for _, a := range list.Alerts {
			ack := ""
			if a.Acked {
				ack = " (acknowledged by " + a.AckedBy + ")"
			}
			who := a.Kiosk
			if who == "" {
				who = "(fleet)"
			}
			fmt.Printf("%s\t%s\tsince %s%s\n", who, a.Kind, a.Since.UTC().Format(time.RFC3339), ack)
		}
		if list.Total > len(list.Alerts) {
			fmt.Printf("(%d more)\n", list.Total-len(list.Alerts))
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
	token            string // an API token (FLEETD_TOKEN), instead of user and password
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
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	} else {
		req.SetBasicAuth(c.user, c.pass)
	}
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

// newAPIClient is the client of the CLI subcommands: FLEETD_ADDR (or
// -addr), and FLEETD_TOKEN (an API token), or FLEETD_USER (default
// admin) with FLEETD_PASSWORD.
func newAPIClient(addr string) apiClient {
	return apiClient{base: strings.TrimRight(addr, "/"), user: envOr("FLEETD_USER", "admin"), pass: os.Getenv("FLEETD_PASSWORD"),
		token: os.Getenv("FLEETD_TOKEN"), http: &http.Client{Timeout: 5 * time.Minute}}
}

// runKiosk enrolls kiosks (each gets its own random broker credential) or
// revokes one, through a running fleetd.
func runKiosk(args []string) error {
	usage := errors.New("usage: fleetd kiosk enroll [-out DIR] SITE/KIOSK… | fleetd kiosk revoke SITE/KIOSK")
	if len(args) == 0 {
		return usage
	}
	fs := flag.NewFlagSet("fleetd kiosk "+args[0], flag.ContinueOnError)
	addr := fs.String("addr", envOr("FLEETD_ADDR", "http://127.0.0.1:8080"), "fleetd's dashboard URL")
	out := fs.String("out", "", "enroll: write each password to DIR/SITE.KIOSK.pass (mode 0600) instead of printing it")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	c := newAPIClient(*addr)
	switch {
	case args[0] == "enroll" && fs.NArg() > 0:
		cs, err := c.enroll(fs.Args())
		if err != nil {
			return err
		}
		for _, k := range cs {
			pw := k.Password
			if *out != "" {
				p := filepath.Join(*out, k.Username+".pass")
				if err := os.WriteFile(p, []byte(k.Password+"\n"), 0o600); err != nil {
					return err
				}
				pw = "(in " + p + ")"
			}
			fmt.Printf("%s\n  mqtt.username: %s\n  mqtt password (mqtt.password_file): %s\n  client id: %s\n  operator_keys_file line: %s\n",
				k.Kiosk, k.Username, pw, k.ClientID, k.OperatorKey)
		}
		return nil
	case args[0] == "revoke" && fs.NArg() == 1:
		var res map[string]string
		if err := c.do("POST", "/api/v1/kiosks/"+fs.Arg(0)+"/revoke", struct{}{}, &res); err != nil {
			return err
		}
		fmt.Printf("%s revoked: its session is dropped and it cannot connect again until enrolled anew\n", fs.Arg(0))
		return nil
	}
	return usage
}

// enroll enrolls kiosks in batches of manager.MaxEnrollBatch.
func (c apiClient) enroll(names []string) ([]manager.Credential, error) {
	var all []manager.Credential
	for len(names) > 0 {
		n := min(len(names), manager.MaxEnrollBatch)
		var res struct {
			Credentials []manager.Credential `json:"credentials"`
		}
		if err := c.do("POST", "/api/v1/enroll", map[string][]string{"kiosks": names[:n]}, &res); err != nil {
			return nil, err
		}
		all, names = append(all, res.Credentials...), names[n:]
	}
	return all, nil
}

// runCredentials prints the operator user's broker credentials of the
// fleetd whose data directory is -data (for a standby fleetd or a bridge).
// Kiosks get their own: fleetd kiosk enroll.
func runCredentials(args []string) error {
	fs := flag.NewFlagSet("fleetd kiosk-credentials", flag.ContinueOnError)
	data := fs.String("data", "fleetd-data", "fleetd's data directory")
	operator := fs.Bool("operator", false, "print the operator user's credentials (for a standby fleetd or a tool)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*operator {
		return errors.New("kiosks have their own credentials now: fleetd kiosk enroll SITE/KIOSK (kiosk-credentials -operator prints the operator's)")
	}
	secret, err := loadOrCreate(filepath.Join(*data, secretFile), 32)
	if err != nil {
		return err
	}
	fmt.Printf("user: fleetd\npassword: %s\n", broker.OperatorPassword(secret, "fleetd"))
	return nil
}

// runUserAdd adds an account to a stopped fleetd's database and prints its
// password.
func runUserAdd(args []string) error {
	fs := flag.NewFlagSet("fleetd useradd", flag.ContinueOnError)
	data := fs.String("data", "fleetd-data", "fleetd's data directory (fleetd must be stopped)")
	role := fs.String("role", manager.RoleViewer, "viewer, operator or admin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: fleetd useradd [-data DIR] [-role viewer|operator|admin] NAME")
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
