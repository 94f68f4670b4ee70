package manager

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"
)

// Roles.
const (
	RoleViewer   = "viewer"   // sees everything, acts on nothing
	RoleOperator = "operator" // also sends commands and acknowledges alerts
)

// User is an operator account. Hash is bcrypt.
type User struct {
	Name string `json:"name"`
	Role string `json:"role"`
	Hash []byte `json:"hash"`
	// CSRF is the token of the user's browser session that forms carry
	// (not stored).
	CSRF string `json:"-"`
}

// ErrBadLogin is returned for an unknown user or a wrong password.
var ErrBadLogin = errors.New("wrong user name or password")

// NewPassword returns a random password for a new account.
func NewPassword() string {
	b := make([]byte, 15)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SetUser creates or replaces user name with role and password.
func (s *Store) SetUser(name, role, password string) error {
	if role != RoleViewer && role != RoleOperator {
		return fmt.Errorf("set user %s: role %q is not viewer or operator", name, role)
	}
	if name == "" || len(name) > 64 {
		return fmt.Errorf("set user: name must be 1–64 characters")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("set user %s: hash: %w", name, err)
	}
	return s.Write(Put(BucketUsers, []byte(name), User{Name: name, Role: role, Hash: h}))
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
	u.CSRF, u.Hash = token(), nil
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
