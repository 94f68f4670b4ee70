package manager

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"
)

// Roles, each with what the one before may do.
const (
	RoleViewer   = "viewer"   // sees the kiosks of their sites, acts on nothing
	RoleOperator = "operator" // also sends commands and jobs, acknowledges alerts, enrolls, tags, configures
	RoleAdmin    = "admin"    // also manages users, notification rules and site names (issue 19)
)

// Roles lists the roles, least first.
var Roles = []string{RoleViewer, RoleOperator, RoleAdmin}

// Languages of the console; the first is the default (issue 19).
var ConsoleLanguages = []string{"zh-TW", "en"}

// User is a console account. Hash is bcrypt. Sites are the sites the user
// may see and act on (none: every site).
type User struct {
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Hash     []byte    `json:"hash"`
	Sites    []string  `json:"sites,omitempty"`
	Lang     string    `json:"lang,omitempty"`
	Disabled bool      `json:"disabled,omitempty"`
	Created  time.Time `json:"created,omitzero"`
	// TOTP is the second factor's secret once confirmed (RFC 6238);
	// TOTPPending one being set up; TOTPLast the last time step a code
	// was accepted for (a code works once).
	TOTP        []byte `json:"totp,omitempty"`
	TOTPPending []byte `json:"totp_pending,omitempty"`
	TOTPLast    int64  `json:"totp_last,omitempty"`
	// CSRF is the token of the user's browser session that forms carry
	// (not stored). Token names the API token a request came with.
	CSRF  string `json:"-"`
	Token string `json:"-"`
}

// Operates reports whether u may act (commands, jobs, alerts, tags,
// configuration, enrollment).
func (u User) Operates() bool { return u.Role == RoleOperator || u.Role == RoleAdmin }

// Administers reports whether u may manage users, rules and site names.
func (u User) Administers() bool { return u.Role == RoleAdmin }

// MaySee reports whether u may see (and, operating, act on) site's
// kiosks. "" is the fleet as a whole, which everyone sees.
func (u User) MaySee(site string) bool {
	return len(u.Sites) == 0 || site == "" || slices.Contains(u.Sites, site)
}

// AllSites reports whether u is restricted to no sites.
func (u User) AllSites() bool { return len(u.Sites) == 0 }

// Language is the user's console language (Traditional Chinese unless
// they chose English).
func (u User) Language() string {
	if slices.Contains(ConsoleLanguages, u.Lang) {
		return u.Lang
	}
	return ConsoleLanguages[0]
}

// ErrBadLogin is returned for an unknown user or a wrong password.
var ErrBadLogin = errors.New("wrong user name or password")

// ErrDisabled is returned for a disabled account.
var ErrDisabled = errors.New("this account is disabled")

// NewPassword returns a random password for a new account.
func NewPassword() string {
	b := make([]byte, 15)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validRole reports whether role is one of Roles.
func validRole(role string) bool { return slices.Contains(Roles, role) }

// SetUser creates or replaces user name with role and password (fleetd
// useradd, first start, tests); the console manages users while fleetd
// runs (accounts.go).
func (s *Store) SetUser(name, role, password string) error {
	if !validRole(role) {
		return fmt.Errorf("set user %s: role %q is not viewer, operator or admin", name, role)
	}
	if err := validUserName(name); err != nil {
		return fmt.Errorf("set user: %w", err)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("set user %s: hash: %w", name, err)
	}
	return s.Write(Put(BucketUsers, []byte(name), User{Name: name, Role: role, Hash: h, Created: time.Now().UTC()}))
}

// HasUsers reports whether any account exists.
func (s *Store) HasUsers() (bool, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(BucketUsers).Stats().KeyN; return nil })
	return n > 0, err
}

// CheckLogin returns the user if password is right.
func (s *Store) CheckLogin(name, password string) (User, error) {
	var u User
	ok, err := s.Get(BucketUsers, []byte(name), &u)
	if err != nil {
		return User{}, fmt.Errorf("check login: %w", err)
	}
	if !ok {
		bcrypt.CompareHashAndPassword([]byte("$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z3ZuXRG7pxz0uLrEoxoFz6hG"), []byte(password))
		return User{}, ErrBadLogin
	}
	if bcrypt.CompareHashAndPassword(u.Hash, []byte(password)) != nil {
		return User{}, ErrBadLogin
	}
	if u.Disabled {
		return User{}, ErrDisabled
	}
	return u, nil
}

// Meta returns a value kept in the meta bucket, creating it with mk.
func (s *Store) Meta(key string, mk func() []byte) ([]byte, error) {
	var v []byte
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(BucketMeta)
		if cur := b.Get([]byte(key)); cur != nil {
			v = append([]byte(nil), cur...)
			return nil
		}
		v = mk()
		return b.Put([]byte(key), v)
	})
	return v, err
}

// sessions are logged-in browsers: random token → user and CSRF token,
// 12 h, at most maxSessions (the oldest go first).
type sessions struct {
	mu sync.Mutex
	m  map[string]session
}

type session struct {
	user    User
	expires time.Time
}

const maxSessions = 10000

func token() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *sessions) create(u User) string {
	tok := token()
	u.CSRF, u.Hash, u.TOTP, u.TOTPPending = token(), nil, nil, nil
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]session{}
	}
	if len(s.m) >= maxSessions {
		var oldest string
		for k, se := range s.m {
			if now.After(se.expires) {
				delete(s.m, k)
			} else if oldest == "" || se.expires.Before(s.m[oldest].expires) {
				oldest = k
			}
		}
		if len(s.m) >= maxSessions {
			delete(s.m, oldest)
		}
	}
	s.m[tok] = session{u, now.Add(12 * time.Hour)}
	return tok
}

func (s *sessions) get(tok string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.m[tok]
	if !ok || time.Now().After(se.expires) {
		delete(s.m, tok)
		return User{}, false
	}
	return se.user, true
}

func (s *sessions) drop(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, tok)
}
