package manager

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// benchManager is a manager with n kiosks heard now, in 20 sites and a
// few groups, and configuration layers for the fleet and two groups.
func benchManager(b *testing.B, n int) *Manager {
	store, err := OpenStore(filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	m, err := New(Options{Store: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for i := range n {
		k := m.kioskLocked(fleet.KioskRef{Site: fmt.Sprintf("site-%d", i%20), Kiosk: fmt.Sprintf("k%d", i)})
		k.State, k.LastHeard, k.Status = fleet.Online, now, StatusOnline
		k.Birth = &fleet.Birth{ConfigHash: "sha256:none"}
		k.Tags = []string{fmt.Sprintf("region:r%d", i%4), fmt.Sprintf("type:t%d", i%2)}
	}
	admin := User{Name: "a", Role: RoleAdmin}
	for scope, doc := range map[string]string{ScopeFleet: `{"language":"zh-TW"}`, "group:region:r1": `{"session":{"idle_timeout":"45s"}}`,
		"group:type:t0": `{"display":{"theme":"large-text"}}`} {
		if err := m.SetConfigLayer(admin, scope, 0, []byte(doc)); err != nil {
			b.Fatal(err)
		}
	}
	return m
}

// BenchmarkReconcileConfig is one tick of central configuration over a
// large fleet (nothing to send: every kiosk was just sent its own).
func BenchmarkReconcileConfig(b *testing.B) {
	for _, n := range []int{1000, 10000, 50000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			m := benchManager(b, n)
			now := time.Now()
			for name, k := range m.kiosks {
				// Each was just sent its configuration: measure the
				// reckoning, not the sending.
				o, _, _ := m.DesiredConfig(name)
				k.Config.SentAt, k.Config.SentFor = now, o.Hash()
			}
			m.reconcileConfig(now) // the first pass sets the desired hashes
			b.ResetTimer()
			for b.Loop() {
				m.reconcileConfig(now)
			}
		})
	}
}

// BenchmarkDispatchJob is one tick of a job over kiosks all waiting for
// their answers.
func BenchmarkDispatchJob(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			m := benchManager(b, n)
			j := &Job{ID: "j", Action: fleet.CmdSelfTest, Expires: time.Now().Add(time.Hour), Total: n,
				byKiosk: map[string]*JobTarget{}, byCmd: map[fleet.Token]struct{}{}}
			for name := range m.kiosks {
				j.byKiosk[name] = &JobTarget{Kiosk: name, State: TargetSent, SentAt: time.Now()}
			}
			m.ops.jobs.active["j"] = j
			now := time.Now()
			b.ResetTimer()
			for b.Loop() {
				m.dispatchJobs(now)
			}
		})
	}
}
