package manager

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/broker"
)

// enrollRecord is what the store keeps of a kiosk's credential: the
// record and the SHA-256 of its password, never the password.
type enrollRecord struct {
	Enrollment
	Hash []byte `json:"hash,omitempty"`
}

// Credential is what a kiosk needs to connect, shown once at enrollment.
type Credential struct {
	Kiosk    string `json:"kiosk"`
	Username string `json:"username"`
	ClientID string `json:"client_id"`
	Password string `json:"password"`
	// OperatorKey is the line for the kiosk's mqtt.operator_keys_file.
	OperatorKey string `json:"operator_key"`
}

// ErrNoCredentials is returned when this fleetd does not manage the
// broker's credentials (an external broker without -broker-dynsec).
var ErrNoCredentials = errors.New("this fleetd does not manage broker credentials: use its embedded broker, or -broker-dynsec with Mosquitto's Dynamic Security plugin")

// MaxEnrollBatch bounds the kiosks one EnrollMany call enrolls.
const MaxEnrollBatch = 1000

// Enroll gives kiosk name its own random broker credential, or a new one
// (the old one stops working, and a session using it is dropped). It
// returns the credential; fleetd keeps only its hash.
func (m *Manager) Enroll(ctx context.Context, u User, name string) (Credential, error) {
	cs, err := m.EnrollMany(ctx, u, []string{name})
	if err != nil {
		return Credential{}, err
	}
	return cs[0], nil
}

// EnrollMany enrolls up to MaxEnrollBatch kiosks (simulations, a new site).
func (m *Manager) EnrollMany(ctx context.Context, u User, names []string) ([]Credential, error) {
	if !u.Operates() {
		return nil, ErrNotOperator
	}
	if m.creds == nil {
		return nil, ErrNoCredentials
	}
	if len(names) == 0 || len(names) > MaxEnrollBatch {
		return nil, fmt.Errorf("enroll: %d kiosks, want 1–%d", len(names), MaxEnrollBatch)
	}
	refs := make([]fleet.KioskRef, len(names))
	for i, n := range names {
		ref, err := fleet.ParseKioskRef(n)
		if err != nil {
			return nil, err
		}
		if !u.MaySee(ref.Site) {
			return nil, fmt.Errorf("enroll %s: %w", n, ErrNotYourSite)
		}
		refs[i] = ref
	}
	now := m.opts.Now().UTC()
	keyLine := ""
	if m.opts.Signer.Key != nil {
		keyLine = m.opts.Signer.PublicLine()
	}
	out := make([]Credential, len(refs))
	var ops []Op
	for i, ref := range refs {
		b := make([]byte, 32)
		rand.Read(b)
		pw := base64.RawURLEncoding.EncodeToString(b)
		if err := m.creds.SetKiosk(ctx, ref, pw); err != nil {
			return nil, fmt.Errorf("enroll %s: %w", ref, err)
		}
		h := broker.PasswordHash(pw)
		out[i] = Credential{Kiosk: ref.String(), Username: ref.Username(), ClientID: ref.ClientID(), Password: pw,
			OperatorKey: keyLine}
		e := Enrollment{Enrolled: now, By: u.Name}
		ops = append(ops, Put(BucketEnrollment, []byte(ref.String()), enrollRecord{Enrollment: e, Hash: h[:]}),
			m.auditOp(now, u.Name, "enroll", ref.String(), ""))
	}
	if err := m.store.Write(ops...); err != nil {
		return nil, fmt.Errorf("enroll: record: %w", err)
	}
	m.mu.Lock()
	for _, ref := range refs {
		k := m.kioskLocked(ref)
		k.Enrollment = &Enrollment{Enrolled: now, By: u.Name}
		k.evaluate(now, m.hearingLocked(k), m.lv)
		m.dirty[k.Name] = struct{}{}
	}
	m.mu.Unlock()
	for _, ref := range refs {
		m.hub.publish(ref.String(), changeView|changeAlerts)
	}
	m.log.Info("fleetd enrolled kiosks", "user", u.Name, "kiosks", len(refs), "first", refs[0].String())
	return out, nil
}

// Revoke cuts kiosk name off at once: its credential stops working, its
// session is dropped, its retained state is cleared, and fleetd ignores it
// until it is enrolled again. Other kiosks are untouched.
func (m *Manager) Revoke(ctx context.Context, u User, name string) error {
	if !u.Operates() {
		return ErrNotOperator
	}
	if m.creds == nil {
		return ErrNoCredentials
	}
	ref, err := fleet.ParseKioskRef(name)
	if err != nil {
		return err
	}
	if !u.MaySee(ref.Site) {
		return ErrNotYourSite
	}
	var r enrollRecord
	if ok, err := m.store.Get(BucketEnrollment, []byte(name), &r); err != nil {
		return err
	} else if !ok {
		r.Enrollment = Enrollment{By: "(before enrollment)"}
	}
	if err := m.creds.RevokeKiosk(ctx, ref); err != nil {
		return fmt.Errorf("revoke %s: %w", name, err)
	}
	now := m.opts.Now().UTC()
	r.Revoked, r.RevokedBy, r.Hash = now, u.Name, nil
	if err := m.store.Write(Put(BucketEnrollment, []byte(name), r), m.auditOp(now, u.Name, "revoke", name, "")); err != nil {
		return fmt.Errorf("revoke: record: %w", err)
	}
	m.mu.Lock()
	k := m.kioskLocked(ref)
	e := r.Enrollment
	k.Enrollment = &e
	k.evaluate(now, m.hearingLocked(k), m.lv)
	m.dirty[name] = struct{}{}
	m.mu.Unlock()
	for _, ch := range []string{fleet.ChanState, fleet.ChanHealth} {
		if err := m.publish(ref, ch, true, nil); err != nil {
			m.log.Warn("fleetd clear retained", "kiosk", name, "err", err)
		}
	}
	m.hub.publish(name, changeView|changeAlerts)
	m.log.Info("fleetd revoked kiosk", "user", u.Name, "kiosk", name)
	return nil
}

func (m *Manager) auditOp(now time.Time, user, action, kiosk, detail string) Op {
	return Put(BucketAudit, TimeKey("", now, m.seq.Add(1)), AuditEntry{TS: now, User: user, Action: action, Kiosk: kiosk, Detail: detail})
}
