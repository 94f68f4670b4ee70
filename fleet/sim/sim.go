// Package sim runs simulated kiosks: real fleet.Agents with made-up
// health, occasional events and a handler that obeys commands, for demos
// (fleetd simulate) and load tests. It owns no real device and never
// produces personal data.
package sim

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
)

// Options configure a simulation.
type Options struct {
	N         int    // kiosks
	First     int    // index of the first (several simulations side by side)
	Sites     int    // spread over this many sites (default N/50+1)
	BrokerURL string // e.g. mqtt://127.0.0.1:1883
	CAFile    string
	// Password returns a kiosk's broker password.
	Password func(fleet.KioskRef) string
	// OperatorKeys is the operator_keys_file content the kiosks trust.
	OperatorKeys   string
	HealthInterval time.Duration
	// Ramp spreads the connections over this long (default N×2 ms).
	Ramp   time.Duration
	Dir    string // scratch directory for per-kiosk files
	Logger *slog.Logger
}

// Names of the sites the simulation uses, cycled.
var siteNames = []string{"taipei-branch", "taichung-branch", "kaohsiung-branch", "tainan-branch", "hsinchu-branch",
	"ntuh-lobby", "vghtpe-lobby", "cgmh-lobby", "hualien-branch", "keelung-branch"}

// Ref is the name of simulated kiosk i of n across sites sites.
func Ref(i, sites int) fleet.KioskRef {
	s := siteNames[i%sites%len(siteNames)]
	if sites > len(siteNames) {
		s = fmt.Sprintf("%s-%d", s, i%sites/len(siteNames))
	}
	return fleet.KioskRef{Site: s, Kiosk: fmt.Sprintf("k%04d", i/sites+1)}
}

// Stats counts what the simulated kiosks did.
type Stats struct {
	Running  atomic.Int64
	Commands atomic.Int64
}

// Run starts the kiosks and runs them until ctx ends.
func Run(ctx context.Context, o Options, st *Stats) error {
	if o.Sites <= 0 {
		o.Sites = min(o.N/50+1, 40)
	}
	if o.Ramp <= 0 {
		o.Ramp = time.Duration(o.N) * 2 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	keys := filepath.Join(o.Dir, "operator-keys")
	if err := os.WriteFile(keys, []byte(o.OperatorKeys+"\n"), 0o600); err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	var wg sync.WaitGroup
	for i := range o.N {
		ref := Ref(o.First+i, o.Sites)
		pw := filepath.Join(o.Dir, ref.Username()+".pass")
		if err := os.WriteFile(pw, []byte(o.Password(ref)), 0o600); err != nil {
			return fmt.Errorf("simulate: %w", err)
		}
		k := newKiosk(o.First + i)
		cfg := config.MQTT{BrokerURL: o.BrokerURL, Username: ref.Username(), PasswordFile: pw, CAFile: o.CAFile,
			OperatorKeysFile: keys, HealthInterval: config.Duration(o.HealthInterval)}
		a, err := fleet.NewAgent(cfg, fleet.Identity{Kiosk: ref, Version: k.version, Image: "gokrazy-2026.11.20",
			BootTime: time.Now().Add(-time.Duration(rand.IntN(86400)) * time.Second), ConfigHash: "sha256:5f0c9a"},
			fleet.Options{Health: k.health, Handler: k, Logger: o.Logger, QueueSize: 64})
		if err != nil {
			return fmt.Errorf("simulate %s: %w", ref, err)
		}
		k.agent, k.stats = a, st
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.Running.Add(1)
			defer st.Running.Add(-1)
			a.Run(ctx)
		}()
		go k.events(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(o.Ramp / time.Duration(o.N)):
		}
	}
	wg.Wait()
	return nil
}

// kiosk is one simulated kiosk's appliance side.
type kiosk struct {
	mu       sync.Mutex
	rng      *rand.Rand
	version  fleet.Token
	fault    string
	start    time.Time
	sessions fleet.Sessions
	maint    bool
	agent    *fleet.Agent
	stats    *Stats
}

func newKiosk(i int) *kiosk {
	k := &kiosk{rng: rand.New(rand.NewPCG(uint64(i), 7)), version: "v1.4.2", start: time.Now(),
		sessions: fleet.Sessions{Aborted: map[fleet.AbortReason]uint64{}}}
	if i%10 == 3 {
		k.version = "v1.4.1"
	}
	switch i % 97 {
	case 5:
		k.fault = "reader"
	case 11:
		k.fault = "disk"
	case 23:
		k.fault = "hot"
	case 41:
		k.fault = "outbox"
	}
	return k
}

func (k *kiosk) health() fleet.Health {
	k.mu.Lock()
	defer k.mu.Unlock()
	temp := 48 + k.rng.Float64()*8
	h := fleet.Health{UptimeS: int64(time.Since(k.start).Seconds()) + 3600, CPUTempC: &temp, Load1: 0.2 + k.rng.Float64()*0.6,
		MemUsedPct: 28 + k.rng.Float64()*6, PermFreePct: 64, PermFreeBytes: 19 << 30,
		Reader: fleet.Reader{Present: true, Name: "ACS-ACR39U"}, Display: "fbdev",
		Upstream: fleet.UpstreamHealth{Reachable: true, LastLatencyMS: 30 + k.rng.Int64N(60)}}
	if k.rng.IntN(4) == 0 {
		k.sessions.Started++
		if k.rng.IntN(6) == 0 {
			k.sessions.Aborted[fleet.AbortCardRemoved]++
		} else {
			k.sessions.Completed++
		}
	}
	h.Sessions = fleet.Sessions{Started: k.sessions.Started, Completed: k.sessions.Completed, Aborted: maps(k.sessions.Aborted)}
	switch k.fault {
	case "reader":
		h.Reader = fleet.Reader{}
	case "disk":
		h.PermFreePct, h.PermFreeBytes = 6, 1<<30
	case "hot":
		temp = 83 + k.rng.Float64()*3
	case "outbox":
		h.Outbox = fleet.Outbox{Depth: 4, OldestAgeS: 900 + int64(time.Since(k.start).Seconds())}
		h.Upstream.Reachable = false
	}
	return h
}

func maps[K comparable](m map[K]uint64) map[K]uint64 {
	out := make(map[K]uint64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// events sends an occasional event, as real kiosks do.
func (k *kiosk) events(ctx context.Context) {
	for {
		k.mu.Lock()
		wait, which := time.Duration(5+k.rng.IntN(25))*time.Minute, k.rng.IntN(3)
		k.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		switch which {
		case 0:
			k.agent.Event(fleet.EvCardError, fleet.EventFields{CardError: fleet.CardUnreadable})
		case 1:
			k.agent.Event(fleet.EvHelpRequested, fleet.EventFields{})
		default:
			k.agent.Event(fleet.EvReaderReplugged, fleet.EventFields{})
		}
	}
}

func (k *kiosk) count() { k.stats.Commands.Add(1) }

// Reboot pretends to reboot.
func (k *kiosk) Reboot(context.Context) error { k.count(); return nil }

// Restart pretends to restart.
func (k *kiosk) Restart(context.Context) error { k.count(); return nil }

// SetMaintenance records the mode.
func (k *kiosk) SetMaintenance(_ context.Context, on bool) error {
	k.count()
	k.mu.Lock()
	k.maint = on
	k.mu.Unlock()
	return nil
}

// SetLanguage accepts the language.
func (k *kiosk) SetLanguage(context.Context, string) error { k.count(); return nil }

// ReloadConfig accepts.
func (k *kiosk) ReloadConfig(context.Context) error { k.count(); return nil }

// SelfTest reports the simulated fault.
func (k *kiosk) SelfTest(context.Context) (fleet.SelfTest, error) {
	k.count()
	ok := fleet.Check{OK: true}
	st := fleet.SelfTest{Reader: ok, Display: ok, Upstream: ok, Disk: ok}
	switch k.fault {
	case "reader":
		st.Reader = fleet.Check{Kind: "no_reader"}
	case "disk":
		st.Disk = fleet.Check{Kind: "low_space"}
	case "outbox":
		st.Upstream = fleet.Check{Kind: "timeout"}
	}
	return st, nil
}

// Screenshot is refused now and then, as if a person were in a session.
func (k *kiosk) Screenshot(context.Context) ([]byte, error) {
	k.count()
	k.mu.Lock()
	busy := k.rng.IntN(3) == 0
	k.mu.Unlock()
	if busy {
		return nil, fleet.ErrSessionActive
	}
	return nil, fleet.ErrUnsupported
}
