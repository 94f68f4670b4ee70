package manager

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// API tokens for scripts (issue 19): a token acts for its owner with at
// most the owner's role and sites, narrowed to the role and sites it was
// made with, until it expires or is revoked; a disabled owner's tokens
// stop working. fleetd keeps only each secret's SHA-256. Scripts send it
// as "Authorization: Bearer fkt_…".

// BucketTokens holds API tokens: id → APIToken.
var BucketTokens = Bucket("tokens")

const tokenPrefix = "fkt_"

// MaxTokenLifetime bounds an API token's life.
const MaxTokenLifetime = 366 * 24 * time.Hour

// APIToken is one API token as stored and shown (never its secret).
type APIToken struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Owner     string    `json:"owner"`
	Role      string    `json:"role"`
	Sites     []string  `json:"sites,omitempty"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
	Revoked   time.Time `json:"revoked,omitzero"`
	RevokedBy string    `json:"revoked_by,omitempty"`
	Hash      []byte    `json:"hash,omitempty"`
}

// Active reports whether t works at now.
func (t APIToken) Active(now time.Time) bool { return t.Revoked.IsZero() && now.Before(t.Expires) }

func roleLevel(role string) int { return slices.Index(Roles, role) }

// ErrBadToken is returned for an unknown, revoked or expired API token.
var ErrBadToken = errors.New("unknown, revoked or expired API token")

// CreateToken makes an API token for u named name, with role (at most
// u's) and sites (within u's; none: all of u's), valid for ttl. It
// returns the secret, shown once.
func (m *Manager) CreateToken(u User, name, role string, sites []string, ttl time.Duration) (string, APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 64 {
		return "", APIToken{}, errors.New("a token needs a name of 1–64 characters")
	}
	if role == "" {
		role = u.Role
	}
	if !validRole(role) || roleLevel(role) > roleLevel(u.Role) {
		return "", APIToken{}, fmt.Errorf("role %q: at most your own (%s)", role, u.Role)
	}
	sites, err := validSites(sites)
	if err != nil {
		return "", APIToken{}, err
	}
	for _, s := range sites {
		if !u.MaySee(s) {
			return "", APIToken{}, fmt.Errorf("site %s: %w", s, ErrNotYourSite)
		}
	}
	if len(sites) == 0 {
		sites = u.Sites
	}
	if ttl <= 0 || ttl > MaxTokenLifetime {
		return "", APIToken{}, fmt.Errorf("a token lives 1 s to %v", MaxTokenLifetime)
	}
	idb, sec := make([]byte, 8), make([]byte, 32)
	rand.Read(idb)
	rand.Read(sec)
	id := hex.EncodeToString(idb)
	secret := tokenPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(sec)
	sum := sha256.Sum256([]byte(secret))
	now := m.opts.Now().UTC()
	t := APIToken{ID: id, Name: name, Owner: u.Name, Role: role, Sites: sites, Created: now, Expires: now.Add(ttl), Hash: sum[:]}
	if err := m.store.Write(Put(BucketTokens, []byte(id), t),
		m.auditOp(now, u.Name, "token_create", "", id+" "+role+" "+sitesText(sites))); err != nil {
		return "", APIToken{}, fmt.Errorf("create token: %w", err)
	}
	t.Hash = nil
	return secret, t, nil
}

// Tokens lists u's API tokens (an admin's: everyone's), newest first.
func (m *Manager) Tokens(u User) ([]APIToken, error) {
	var out []APIToken
	err := EachJSON(m.store, BucketTokens, nil, func(_ []byte, t APIToken) error {
		if t.Owner == u.Name || u.Administers() {
			t.Hash = nil
			out = append(out, t)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, err
}

// RevokeToken revokes API token id; its owner or an admin may.
func (m *Manager) RevokeToken(u User, id string) error {
	var t APIToken
	ok, err := m.store.Get(BucketTokens, []byte(id), &t)
	if err != nil {
		return err
	}
	if !ok || t.Owner != u.Name && !u.Administers() {
		return fmt.Errorf("revoke token %s: %w", id, ErrBadToken)
	}
	if !t.Revoked.IsZero() {
		return nil
	}
	now := m.opts.Now().UTC()
	t.Revoked, t.RevokedBy = now, u.Name
	if err := m.store.Write(Put(BucketTokens, []byte(id), t), m.auditOp(now, u.Name, "token_revoke", "", id+" of "+t.Owner)); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// tokenUser returns the user an API token acts as.
func (m *Manager) tokenUser(secret string) (User, error) {
	rest, ok := strings.CutPrefix(secret, tokenPrefix)
	id, _, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || len(id) != 16 {
		return User{}, ErrBadToken
	}
	var t APIToken
	if found, err := m.store.Get(BucketTokens, []byte(id), &t); err != nil || !found {
		return User{}, ErrBadToken
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], t.Hash) != 1 || !t.Active(m.opts.Now()) {
		return User{}, ErrBadToken
	}
	u, found, err := m.User(t.Owner)
	if err != nil || !found || u.Disabled {
		return User{}, ErrBadToken
	}
	if roleLevel(t.Role) < roleLevel(u.Role) {
		u.Role = t.Role
	}
	if len(t.Sites) > 0 {
		// Within the owner's sites as they are now: narrowed since, the
		// token narrows with them; nothing left, it works no more (no
		// sites would mean every site).
		var both []string
		for _, s := range t.Sites {
			if u.MaySee(s) {
				both = append(both, s)
			}
		}
		if len(both) == 0 {
			return User{}, ErrBadToken
		}
		u.Sites = both
	}
	u.Hash, u.TOTP, u.TOTPPending, u.Token = nil, nil, nil, t.Name
	return u, nil
}
