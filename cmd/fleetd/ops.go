package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/manager"
)

// The CLI of issue 19's operations, against a running fleetd's API:
//
//	fleetd groups
//	fleetd tag add|rm TAG SITE/KIOSK…
//	fleetd job [-tag T]… [-site S] [-language L] [-for 24h] [-wait 10m] ACTION [SITE/KIOSK…]
//	fleetd job show ID
//	fleetd config [show [SCOPE | SITE/KIOSK]] | [-rank N] set SCOPE FILE|- | rm SCOPE

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func runOps(sub string, args []string) error {
	fs := flag.NewFlagSet("fleetd "+sub, flag.ContinueOnError)
	addr := fs.String("addr", envOr("FLEETD_ADDR", "http://127.0.0.1:8080"), "fleetd's dashboard URL")
	var tags multi
	fs.Var(&tags, "tag", "job: the kiosks of this group (repeatable: in every one)")
	site := fs.String("site", "", "job: the kiosks of this site")
	lang := fs.String("language", "", "job set_language: zh-TW or en")
	life := fs.Duration("for", manager.DefaultJobLifetime, "job: how long to keep asking kiosks that are offline")
	wait := fs.Duration("wait", 0, "job: wait this long for the job to finish, printing its progress")
	rank := fs.Int("rank", 0, "config set: a group layer's rank (lower first; later wins)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c := newAPIClient(*addr)
	rest := fs.Args()
	switch sub {
	case "groups":
		return c.groups()
	case "tag":
		if len(rest) < 3 || rest[0] != "add" && rest[0] != "rm" {
			return errors.New("usage: fleetd tag add|rm TAG SITE/KIOSK…")
		}
		req := map[string][]string{"kiosks": rest[2:]}
		if rest[0] == "add" {
			req["add"] = []string{rest[1]}
		} else {
			req["remove"] = []string{rest[1]}
		}
		var res map[string]int
		if err := c.do("POST", "/api/v1/tags", req, &res); err != nil {
			return err
		}
		fmt.Printf("%d kiosks changed\n", res["changed"])
		return nil
	case "job":
		if len(rest) == 2 && rest[0] == "show" {
			return c.showJob(rest[1])
		}
		if len(rest) == 0 {
			return fmt.Errorf("usage: fleetd job [-tag T] [-site S] [-language L] [-for 24h] [-wait 10m] ACTION [SITE/KIOSK…]; actions: %v", manager.JobActions)
		}
		req := manager.JobRequest{Action: fleet.CommandName(rest[0]), Language: *lang, Kiosks: rest[1:], Tags: tags, Site: *site,
			Lifetime: manager.Duration(*life)}
		var j manager.Job
		if err := c.do("POST", "/api/v1/jobs", req, &j); err != nil {
			return err
		}
		fmt.Printf("job %s: %s to %d kiosks, retried until %s\n", j.ID, j.Action, j.Total, j.Expires.Local().Format(time.RFC3339))
		if *wait > 0 {
			return c.waitJob(j.ID, *wait)
		}
		return nil
	case "config":
		return c.configCmd(rest, *rank)
	}
	return fmt.Errorf("unknown subcommand %s", sub)
}

func (c apiClient) groups() error {
	var res struct {
		Groups []manager.GroupInfo `json:"groups"`
	}
	if err := c.do("GET", "/api/v1/groups", nil, &res); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tKIOSKS\tONLINE\tFAULTY\tMAINTENANCE\tOFFLINE\tUNKNOWN\tCONFIG LAYER")
	for _, g := range res.Groups {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%v\n", g.Tag, g.Total, g.By[manager.StatusOnline], g.By[manager.StatusFaulty],
			g.By[manager.StatusMaintenance], g.By[manager.StatusOffline], g.By[manager.StatusUnknown], g.Config)
	}
	return tw.Flush()
}

func (c apiClient) showJob(id string) error {
	var j manager.Job
	if err := c.do("GET", "/api/v1/jobs/"+url.PathEscape(id), nil, &j); err != nil {
		return err
	}
	fmt.Printf("job %s: %s %s, %s, by %s\n%s\n", j.ID, j.Action, j.Language, j.Selection, j.By, progressLine(j))
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIOSK\tSTATE\tATTEMPTS\tANSWER")
	for _, t := range j.Targets {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", t.Kiosk, t.State, t.Attempts, t.Reason)
	}
	return tw.Flush()
}

func progressLine(j manager.Job) string {
	var parts []string
	for _, s := range manager.TargetStates {
		if n := j.Counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
	}
	state := "in progress"
	if !j.Active() {
		state = "finished"
	}
	return fmt.Sprintf("%s: %d of %d done (%s)", state, j.Done(), j.Total, strings.Join(parts, ", "))
}

func (c apiClient) waitJob(id string, wait time.Duration) error {
	last := ""
	for end := time.Now().Add(wait); ; time.Sleep(time.Second) {
		var j manager.Job
		if err := c.do("GET", "/api/v1/jobs/"+url.PathEscape(id), nil, &j); err != nil {
			return err
		}
		if line := progressLine(j); line != last {
			fmt.Println(line)
			last = line
		}
		if !j.Active() {
			if j.Counts[manager.TargetOK] != j.Total {
				return fmt.Errorf("job %s: %d of %d kiosks did not do it", id, j.Total-j.Counts[manager.TargetOK], j.Total)
			}
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("job %s still in progress after %v (it goes on)", id, wait)
		}
	}
}

func (c apiClient) configCmd(args []string, rank int) error {
	switch {
	case len(args) == 0 || len(args) == 1 && args[0] == "show":
		var res struct {
			Layers []manager.ConfigLayer `json:"layers"`
			States map[string]int        `json:"kiosks_by_state"`
		}
		if err := c.do("GET", "/api/v1/config", nil, &res); err != nil {
			return err
		}
		sort.Slice(res.Layers, func(i, j int) bool { return res.Layers[i].Scope < res.Layers[j].Scope })
		for _, l := range res.Layers {
			fmt.Printf("%s (rank %d, by %s): %s\n", l.Scope, l.Rank, l.By, l.Config)
		}
		fmt.Printf("kiosks: %v\n", res.States)
		return nil
	case len(args) == 2 && args[0] == "show":
		var res map[string]any
		if err := c.do("GET", "/api/v1/kiosks/"+args[1]+"/config", nil, &res); err != nil {
			return err
		}
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Println(string(b))
		return nil
	case len(args) == 3 && args[0] == "set":
		var doc []byte
		var err error
		if args[2] == "-" {
			doc, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
		} else {
			doc, err = os.ReadFile(args[2])
		}
		if err != nil {
			return err
		}
		var res map[string]any
		if err := c.do("PUT", "/api/v1/config/"+args[1], map[string]any{"rank": rank, "config": json.RawMessage(doc)}, &res); err != nil {
			return err
		}
		fmt.Printf("%s set (%v); kiosks get it as they are reachable\n", args[1], res["hash"])
		return nil
	case len(args) == 2 && args[0] == "rm":
		var res map[string]string
		return c.do("DELETE", "/api/v1/config/"+args[1], nil, &res)
	}
	return errors.New("usage: fleetd config [show [SCOPE|SITE/KIOSK]] | [-rank N] set SCOPE FILE|- | rm SCOPE (scopes: fleet, group:TAG, kiosk:SITE/KIOSK)")
}
