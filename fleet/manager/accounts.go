package manager

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// Users in the console (issue 19): an admin adds, changes, disables and
// resets accounts while fleetd runs; every user sets their own language,
// password and second factor. Every change is in the audit log.

// ErrNotAdmin is returned when someone who is no admin tries to manage
// accounts, rules or site names.
var ErrNotAdmin = errors.New("only admins may do this")

// ErrLastAdmin keeps the fleet from losing its last admin.
var ErrLastAdmin = errors.New("at least one enabled admin must remain")

// ErrNotYourSite is returned when a user acts on a site they may not.
var ErrNotYourSite = errors.New("you may not act on this site")

var userNameRE = regexp.MustCompile(`^[\p{L}\p{N}._@-]{1,64}$`)

func validUserName(name string) error {
	if !userNameRE.MatchString(name) {
		return fmt.Errorf("user name %q: 1–64 letters (any script), digits and . _ @ -", name)
	}
	return nil
}

func validSites(sites []string) ([]string, error) {
	out := slices.Clone(sites)
	for i, s := range out {
		out[i] = strings.TrimSpace(s)
		if !fleet.ValidName(out[i]) {
			return nil, fmt.Errorf("site %q is not a site id (lower-case letters, digits, -)", s)
		}
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// UserInfo is an account as the console and API show it: never its
// password hash or second factor's secret.
type UserInfo struct {
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Sites    []string  `json:"sites,omitempty"`
	Lang     string    `json:"lang"`
	Disabled bool      `json:"disabled,omitempty"`
	TOTP     bool      `json:"totp"`
	Created  time.Time `json:"created,omitzero"`
}

func (u User) info() UserInfo {
	return UserInfo{Name: u.Name, Role: u.Role, Sites: u.Sites, Lang: u.Language(), Disabled: u.Disabled,
		TOTP: len(u.TOTP) > 0, Created: u.Created}
}

// User returns account name.
func (m *Manager) User(name string) (User, bool, error) {
	var u User
	ok, err := m.store.Get(BucketUsers, []byte(name), &u)
	return u, ok, err
}

// Users lists the accounts, by name (admins only).
func (m *Manager) Users(by User) ([]UserInfo, error) {
	if !by.Administers() {
		return nil, ErrNotAdmin
	}
	var out []UserInfo
	err := EachJSON(m.store, BucketUsers, nil, func(_ []byte, u User) error {
		out = append(out, u.info())
		return nil
	})
	return out, err
}

// AddUser creates account name and returns its first password, shown once.
func (m *Manager) AddUser(by User, name, role string, sites []string) (string, error) {
	if !by.Administers() {
		return "", ErrNotAdmin
	}
	if err := validUserName(name); err != nil {
		return "", err
	}
	if !validRole(role) {
		return "", fmt.Errorf("role %q is not viewer, operator or admin", role)
	}
	sites, err := validSites(sites)
	if err != nil {
		return "", err
	}
	if _, exists, err := m.User(name); err != nil || exists {
		return "", errors.Join(err, fmt.Errorf("user %s exists already", name))
	}
	pw := NewPassword()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return "", err
	}
	now := m.opts.Now().UTC()
	u := User{Name: name, Role: role, Hash: h, Sites: sites, Created: now}
	if err := m.store.Write(Put(BucketUsers, []byte(name), u),
		m.auditOp(now, by.Name, "user_add", "", name+" "+role+" "+sitesText(sites))); err != nil {
		return "", fmt.Errorf("add user: %w", err)
	}
	return pw, nil
}

func sitesText(sites []string) string {
	if len(sites) == 0 {
		return "sites=all"
	}
	return "sites=" + strings.Join(sites, ",")
}

// changeUser applies f to account name under an admin's authority and
// writes it with its audit entry; it keeps an enabled admin.
func (m *Manager) changeUser(by User, name, action string, f func(*User) (string, error)) (User, error) {
	if !by.Administers() {
		return User{}, ErrNotAdmin
	}
	m.ops.accountsMu.Lock()
	defer m.ops.accountsMu.Unlock()
	u, ok, err := m.User(name)
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, fmt.Errorf("no user %s", name)
	}
	detail, err := f(&u)
	if err != nil {
		return User{}, err
	}
	if err := m.keepAnAdmin(u); err != nil {
		return User{}, err
	}
	now := m.opts.Now().UTC()
	if err := m.store.Write(Put(BucketUsers, []byte(name), u), m.auditOp(now, by.Name, action, "", name+" "+detail)); err != nil {
		return User{}, fmt.Errorf("%s: %w", action, err)
	}
	return u, nil
}

// keepAnAdmin refuses a change to u that leaves no enabled admin.
func (m *Manager) keepAnAdmin(changed User) error {
	n := 0
	err := EachJSON(m.store, BucketUsers, nil, func(_ []byte, u User) error {
		if u.Name == changed.Name {
			u = changed
		}
		if u.Role == RoleAdmin && !u.Disabled {
			n++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrLastAdmin
	}
	return nil
}

// UpdateUser sets account name's role and sites.
func (m *Manager) UpdateUser(by User, name, role string, sites []string) (User, error) {
	if !validRole(role) {
		return User{}, fmt.Errorf("role %q is not viewer, operator or admin", role)
	}
	sites, err := validSites(sites)
	if err != nil {
		return User{}, err
	}
	return m.changeUser(by, name, "user_update", func(u *User) (string, error) {
		u.Role, u.Sites = role, sites
		return role + " " + sitesText(sites), nil
	})
}

// SetDisabled disables (or enables again) account name: a disabled user's
// sessions end and their API tokens stop working at once.
func (m *Manager) SetDisabled(by User, name string, disabled bool) (User, error) {
	action := "user_enable"
	if disabled {
		action = "user_disable"
	}
	return m.changeUser(by, name, action, func(u *User) (string, error) {
		u.Disabled = disabled
		return "", nil
	})
}

// ResetUser gives account name a new password, shown once, and removes its
// second factor (a lost phone); its sessions end.
func (m *Manager) ResetUser(by User, name string) (string, User, error) {
	pw := NewPassword()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return "", User{}, err
	}
	u, err := m.changeUser(by, name, "user_reset", func(u *User) (string, error) {
		u.Hash, u.TOTP, u.TOTPPending, u.TOTPLast = h, nil, nil, 0
		return "password and second factor reset", nil
	})
	return pw, u, err
}

// ownChange applies f to u's own account and writes it with its audit
// entry (action "" is not audited).
func (m *Manager) ownChange(u User, action string, f func(*User) error) (User, error) {
	m.ops.accountsMu.Lock()
	defer m.ops.accountsMu.Unlock()
	cur, ok, err := m.User(u.Name)
	if err != nil || !ok {
		return User{}, errors.Join(err, ErrBadLogin)
	}
	if err := f(&cur); err != nil {
		return User{}, err
	}
	ops := []Op{Put(BucketUsers, []byte(cur.Name), cur)}
	if action != "" {
		ops = append(ops, m.auditOp(m.opts.Now().UTC(), u.Name, action, "", cur.Name))
	}
	if err := m.store.Write(ops...); err != nil {
		return User{}, err
	}
	return cur, nil
}

// SetLanguage sets u's console language.
func (m *Manager) SetLanguage(u User, lang string) (User, error) {
	if !slices.Contains(ConsoleLanguages, lang) {
		return User{}, fmt.Errorf("language %q is not one of %v", lang, ConsoleLanguages)
	}
	return m.ownChange(u, "", func(c *User) error { c.Lang = lang; return nil })
}

// MinPassword is the shortest password a user may choose.
const MinPassword = 12

// ChangePassword sets u's password after checking the old one.
func (m *Manager) ChangePassword(u User, old, new string) (User, error) {
	if len(new) < MinPassword {
		return User{}, fmt.Errorf("the new password must be at least %d characters", MinPassword)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(new), bcrypt.DefaultCost)
	if err != nil {
		return User{}, err
	}
	return m.ownChange(u, "password_change", func(c *User) error {
		if bcrypt.CompareHashAndPassword(c.Hash, []byte(old)) != nil {
			return ErrBadLogin
		}
		c.Hash = h
		return nil
	})
}

// BeginTOTP makes a new second-factor secret for u, pending until a code
// from it is confirmed; it returns the secret.
func (m *Manager) BeginTOTP(u User) ([]byte, error) {
	secret := newTOTPSecret()
	_, err := m.ownChange(u, "", func(c *User) error { c.TOTPPending = secret; return nil })
	return secret, err
}

// ErrBadCode is returned for a wrong, reused or expired second-factor code.
var ErrBadCode = errors.New("wrong or already used code")

// ConfirmTOTP turns the pending second factor on once code fits it.
func (m *Manager) ConfirmTOTP(u User, code string) (User, error) {
	now := m.opts.Now()
	return m.ownChange(u, "totp_enable", func(c *User) error {
		step, ok := totpCheck(c.TOTPPending, code, now, 0)
		if len(c.TOTPPending) == 0 || !ok {
			return ErrBadCode
		}
		c.TOTP, c.TOTPPending, c.TOTPLast = c.TOTPPending, nil, step
		return nil
	})
}

// DisableTOTP turns u's second factor off, with a current code.
func (m *Manager) DisableTOTP(u User, code string) (User, error) {
	now := m.opts.Now()
	return m.ownChange(u, "totp_disable", func(c *User) error {
		if _, ok := totpCheck(c.TOTP, code, now, c.TOTPLast); !ok {
			return ErrBadCode
		}
		c.TOTP, c.TOTPLast = nil, 0
		return nil
	})
}

// CheckTOTP checks a login's second-factor code for user name and spends
// it (a code works once).
func (m *Manager) CheckTOTP(name, code string) (User, error) {
	now := m.opts.Now()
	return m.ownChange(User{Name: name}, "", func(c *User) error {
		step, ok := totpCheck(c.TOTP, code, now, c.TOTPLast)
		if !ok {
			return ErrBadCode
		}
		c.TOTPLast = step
		return nil
	})
}

// PromoteFirstAdmin makes account name an admin when no account is one
// (a database from before issue 19, whose first-start account was an
// operator). It changes nothing otherwise.
func (s *Store) PromoteFirstAdmin(name string) error {
	any := false
	err := EachJSON(s, BucketUsers, nil, func(_ []byte, u User) error {
		any = any || u.Role == RoleAdmin
		return nil
	})
	if err != nil || any {
		return err
	}
	var u User
	ok, err := s.Get(BucketUsers, []byte(name), &u)
	if err != nil || !ok {
		return err
	}
	u.Role = RoleAdmin
	return s.Write(Put(BucketUsers, []byte(name), u))
}
