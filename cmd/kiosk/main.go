// Command kiosk is the nhikiosk appliance program: it loads the kiosk's
// configuration and runs the self-service wizard on the configured reader,
// display and upstream.
//
// On gokrazy it runs with -config-dir /perm/nhikiosk. When its
// configuration or hardware is missing it says what is missing and exits
// with status 125, so gokrazy stops restarting it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display/glfwscreen"
)

// Exit statuses.
const (
	exitFailure   = 1
	exitBadConfig = 2   // -check-config found problems
	exitRestart   = 75  // the operator asked for a restart: start me again
	exitNoRestart = 125 // gokrazy: do not restart, something is missing
)

// exitError carries the exit status run wants.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	// GLFW must run on the main thread: Main serves it from here and runs
	// the kiosk on another goroutine (without cgo it just runs it).
	var err error
	glfwscreen.Main(func() { err = run(os.Args[1:], os.Stdout, os.Stderr) })
	if err != nil {
		code := exitFailure
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if code != exitBadConfig {
			slog.Error("kiosk stopped", "err", err, "exit_status", code)
		}
		os.Exit(code)
	}
}

// sets collects repeated -set field=value flags.
type sets []string

func (s *sets) String() string     { return strings.Join(*s, ",") }
func (s *sets) Set(v string) error { *s = append(*s, v); return nil }

type options struct {
	configDir   string
	checkConfig string
	demo        bool
	sets        sets
}

// chose reports whether a -set flag sets field.
func (o options) chose(field string) bool {
	for _, s := range o.sets {
		if k, _, _ := strings.Cut(s, "="); strings.TrimSpace(k) == field {
			return true
		}
	}
	return false
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("kiosk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.configDir, "config-dir", config.ApplianceDir, "directory holding "+config.FileName)
	fs.StringVar(&o.checkConfig, "check-config", "", "check this config.json: print its problems and exit 2, or print the effective configuration and exit 0")
	fs.BoolVar(&o.demo, "demo", false, "run on embedded defaults: a virtual card and an in-process upstream, no config.json")
	fs.Var(&o.sets, "set", "override one field, e.g. -set display.dpi=133 (repeatable); fields:\n"+strings.Join(config.Fields(), "\n"))
	if err := fs.Parse(args); err != nil {
		return o, &exitError{exitBadConfig, err}
	}
	if fs.NArg() > 0 {
		return o, &exitError{exitBadConfig, fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	return o, nil
}

// run runs the kiosk until SIGINT or SIGTERM.
func run(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// runContext runs the kiosk until ctx ends.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	slog.SetDefault(log)
	// Before any person's data can be in memory (issue 13).
	if err := noCoreDumps(); err != nil {
		log.Warn("core dumps not disabled", "err", err)
	}
	if o.checkConfig != "" {
		return checkConfig(o, stdout, stderr)
	}
	cfg, err := loadConfig(o)
	if err != nil {
		return err
	}
	return start(ctx, cfg, o, log, stdout)
}

// loadConfig builds the effective configuration: the demo defaults or
// config.json, then -set overrides, then validation. What is missing or
// wrong is an exitNoRestart error: retrying cannot fix it.
func loadConfig(o options) (config.Config, error) {
	var cfg config.Config
	if o.demo {
		cfg = config.Demo()
	} else {
		var err error
		cfg, err = config.Load(o.configDir)
		if errors.Is(err, config.ErrNotFound) {
			return cfg, &exitError{exitNoRestart, fmt.Errorf("no configuration: put %s in %s (see the README's configuration reference), or run with -demo", config.FileName, o.configDir)}
		}
		if err != nil {
			return cfg, &exitError{exitNoRestart, fmt.Errorf("invalid configuration in %s:\n%w", o.configDir, err)}
		}
		cfg = withStoredCentral(o.configDir, cfg)
	}
	if err := applySets(&cfg, o); err != nil {
		return cfg, &exitError{exitNoRestart, err}
	}
	// The demo on a machine without a display (over SSH, in a container)
	// shows its screen in a browser (issue 23).
	if o.demo && cfg.Display.Backend == config.DisplayGLFW && !o.chose("display.backend") && noWindowSystem() != "" {
		cfg.Display.Backend = config.DisplayWeb
	}
	if ps := cfg.Validate(); len(ps) > 0 {
		return cfg, &exitError{exitNoRestart, fmt.Errorf("invalid configuration:\n%w", ps)}
	}
	return cfg, nil
}

// applySets applies the -set overrides to cfg.
func applySets(cfg *config.Config, o options) error {
	for _, s := range o.sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("-set %q: want field=value", s)
		}
		if err := cfg.Set(k, v); err != nil {
			return fmt.Errorf("-set: %w", err)
		}
	}
	return nil
}

// checkConfig implements -check-config FILE.
func checkConfig(o options, stdout, stderr io.Writer) error {
	cfg, err := config.LoadFile(o.checkConfig)
	if err == nil {
		for _, s := range o.sets {
			k, v, _ := strings.Cut(s, "=")
			if err = cfg.Set(k, v); err != nil {
				break
			}
		}
		if err == nil {
			if ps := cfg.Validate(); len(ps) > 0 {
				err = ps
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: configuration has problems:\n", o.checkConfig)
		var ps config.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				fmt.Fprintf(stderr, "  %s\n", p)
			}
		} else {
			fmt.Fprintf(stderr, "  %v\n", err)
		}
		return &exitError{exitBadConfig, fmt.Errorf("configuration has problems")}
	}
	_, err = stdout.Write(cfg.JSON())
	return err
}
