package main

import (
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
	"github.com/nhikiosk/nhikiosk/fleet/manager"
)

// kiosk returns one kiosk of fleetd's API.
func (c apiClient) kiosk(t *testing.T, name string) manager.Kiosk {
	t.Helper()
	var r struct {
		Kiosk manager.Kiosk `json:"kiosk"`
	}
	if err := c.do("GET", "/api/v1/kiosks/"+name, nil, &r); err != nil {
		t.Fatal(err)
	}
	return r.Kiosk
}

func hasAlert(k manager.Kiosk, kind manager.AlertKind) *manager.Alert {
	for i := range k.Alerts {
		if k.Alerts[i].Kind == kind {
			return &k.Alerts[i]
		}
	}
	return nil
}

// TestDeadKioskAfterRestart: finding 1 — a kiosk was marked offline only by
// a message: kill fleetd and the kiosks, restart fleetd, and 1,000 stayed
// online with no alert. Now a restarted fleetd knows nothing until kiosks
// speak: the dead ones are unknown, then offline with an alert once their
// time has run out; the living one is online again.
func TestDeadKioskAfterRestart(t *testing.T) {
	eachBrokerSide(t, func(t *testing.T, b brokerSide) {
		data, httpAddr := t.TempDir(), freePort(t)
		args := append([]string{"-data", data, "-http", httpAddr, "-health-interval", "1s", "-offline-after", "3"}, b.args...)
		p := startFleetd(t, args...)
		pw := p.banner["password"]
		c := p.client(pw)
		refs := []fleet.KioskRef{{Site: b.site, Kiosk: "k1"}, {Site: b.site, Kiosk: "k2"}, {Site: b.site, Kiosk: "k3"}}
		if b.cleanup != nil {
			t.Cleanup(func() { b.cleanup(refs) })
		}
		creds, err := c.enroll([]string{refs[0].String(), refs[1].String(), refs[2].String()})
		if err != nil {
			t.Fatal(err)
		}
		var ks []*testKiosk
		for i, r := range refs {
			ks = append(ks, b.startKiosk(t, r, creds[i].Password, creds[i].OperatorKey, fleettest.Health))
		}
		for _, r := range refs {
			waitUntil(t, r.String()+" online", 20*time.Second, func() bool { return c.kiosk(t, r.String()).Status == manager.StatusOnline })
		}
		// k1 and k2 die behind dead links (no Last Will reaches anyone),
		// and fleetd crashes.
		for _, k := range ks[:2] {
			k.proxy.Freeze()
			k.stop()
		}
		p.kill(t)
		p = startFleetd(t, args...)
		c = p.client(pw)
		restarted := time.Now()
		for _, r := range refs[:2] {
			if k := c.kiosk(t, r.String()); k.Status == manager.StatusOnline || k.Status == manager.StatusFaulty {
				t.Errorf("right after the restart %s is %q: fleetd has not heard it, it cannot be online", r, k.Status)
			}
		}
		for _, r := range refs[:2] {
			waitUntil(t, r.String()+" offline with an alert", 15*time.Second, func() bool {
				k := c.kiosk(t, r.String())
				return k.Status == manager.StatusOffline && hasAlert(k, manager.AlertOffline) != nil
			})
		}
		t.Logf("%s: dead kiosks offline with an alert %v after the restart (3 × 1 s configured)", b.name, time.Since(restarted).Round(100*time.Millisecond))
		waitUntil(t, refs[2].String()+" online again", 20*time.Second, func() bool {
			return c.kiosk(t, refs[2].String()).Status == manager.StatusOnline
		})
		if k := c.kiosk(t, refs[0].String()); k.ByWill {
			t.Errorf("%s offline by a Last Will: it must be its silence", refs[0])
		}
	})
}

// TestAlertsSurviveRestart: finding 2 — alerts lived only in memory: a
// restart cleared every alert (tamper included, documented to stay until
// acknowledged) and every acknowledgement.
func TestAlertsSurviveRestart(t *testing.T) {
	eachBrokerSide(t, func(t *testing.T, b brokerSide) {
		data, httpAddr := t.TempDir(), freePort(t)
		args := append([]string{"-data", data, "-http", httpAddr, "-health-interval", "1s"}, b.args...)
		p := startFleetd(t, args...)
		pw := p.banner["password"]
		c := p.client(pw)
		tampered, readerless := fleet.KioskRef{Site: b.site, Kiosk: "k1"}, fleet.KioskRef{Site: b.site, Kiosk: "k2"}
		if b.cleanup != nil {
			t.Cleanup(func() { b.cleanup([]fleet.KioskRef{tampered, readerless}) })
		}
		creds, err := c.enroll([]string{tampered.String(), readerless.String()})
		if err != nil {
			t.Fatal(err)
		}
		noReader := func() fleet.Health { h := fleettest.Health(); h.Reader = fleet.Reader{}; return h }
		k1 := b.startKiosk(t, tampered, creds[0].Password, creds[0].OperatorKey, fleettest.Health)
		b.startKiosk(t, readerless, creds[1].Password, creds[1].OperatorKey, noReader)
		waitUntil(t, "k1 online", 20*time.Second, func() bool { return c.kiosk(t, tampered.String()).Status == manager.StatusOnline })
		k1.agent.Event(fleet.EvTamper, fleet.EventFields{})
		waitUntil(t, "the tamper and reader alerts", 20*time.Second, func() bool {
			return hasAlert(c.kiosk(t, tampered.String()), manager.AlertTamper) != nil &&
				hasAlert(c.kiosk(t, readerless.String()), manager.AlertReaderMissing) != nil
		})
		var res map[string]string
		if err := c.do("POST", "/api/v1/alerts/ack", map[string]string{"kiosk": readerless.String(), "kind": string(manager.AlertReaderMissing)}, &res); err != nil {
			t.Fatal(err)
		}
		// Crash once everything is written (the tamper alert rides on the
		// twice-a-second write; the acknowledgement is written at once).
		waitUntil(t, "nothing pending", 10*time.Second, func() bool { return p.metric(t, "fleetd_db_pending") == 0 })
		p.kill(t)
		p = startFleetd(t, args...)
		c = p.client(pw)
		if a := hasAlert(c.kiosk(t, tampered.String()), manager.AlertTamper); a == nil || a.Acked {
			t.Errorf("after the restart the tamper alert is %+v, want it raised and unacknowledged", a)
		}
		a := hasAlert(c.kiosk(t, readerless.String()), manager.AlertReaderMissing)
		if a == nil || !a.Acked || a.AckedBy != "admin" {
			t.Errorf("after the restart the reader alert is %+v, want it acknowledged by admin", a)
		}
		// The kiosks speak again; the tamper alert still waits for an operator.
		waitUntil(t, "k1 heard again", 20*time.Second, func() bool { return c.kiosk(t, tampered.String()).Status != manager.StatusUnknown })
		if a := hasAlert(c.kiosk(t, tampered.String()), manager.AlertTamper); a == nil {
			t.Error("the tamper alert went away when the kiosk came back")
		}
		if a := hasAlert(c.kiosk(t, readerless.String()), manager.AlertReaderMissing); a == nil || !a.Acked {
			t.Errorf("the acknowledged reader alert is %+v after the kiosk spoke again", a)
		}
		var audit []manager.AuditEntry
		if err := c.do("GET", "/api/v1/audit", nil, &audit); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range audit {
			found = found || e.Action == "alert_ack" && e.User == "admin" && e.Kiosk == readerless.String()
		}
		if !found {
			t.Errorf("audit after the restart lacks the acknowledgement: %+v", audit)
		}
	})
}
