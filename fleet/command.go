package fleet

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CommandName is what an operator asks a kiosk to do.
type CommandName string

// Commands a kiosk obeys.
const (
	CmdReboot         CommandName = "reboot"
	CmdRestart        CommandName = "restart"
	CmdMaintenanceOn  CommandName = "maintenance_on"
	CmdMaintenanceOff CommandName = "maintenance_off"
	CmdSetLanguage    CommandName = "set_language"
	CmdReloadConfig   CommandName = "reload_config"
	CmdSelfTest       CommandName = "self_test"
	CmdScreenshot     CommandName = "screenshot"
	// CmdApplyConfig carries a central configuration (issue 19,
	// fleet/central.go); fleetd's configuration sends it, so it is not in
	// Commands.
	CmdApplyConfig CommandName = "apply_config"
)

// Commands lists every command name, for CLIs and dashboards.
var Commands = []CommandName{CmdMaintenanceOn, CmdMaintenanceOff, CmdSelfTest, CmdScreenshot,
	CmdReloadConfig, CmdSetLanguage, CmdRestart, CmdReboot}

// Languages a set_language command may name (config's languages).
var Languages = []string{"zh-TW", "en"}

// MaxCommandLifetime bounds Expires-Issued, so a kiosk only has to remember
// command ids for this long to refuse every replay.
const MaxCommandLifetime = 15 * time.Minute

// MaxClockSkew is how far in the future a command's Issued may lie (the
// operator's clock ahead of the kiosk's); a command stamped later is
// refused as not yet valid instead of run at once (issue 14).
const MaxClockSkew = 2 * time.Minute

// Command is the payload on /cmd. Sig is an Ed25519 signature by the
// operator key KeyID over SigningBytes, which binds the id, the target
// kiosk, the command, its argument and its validity window.
type Command struct {
	V        int         `json:"v"`
	ID       Token       `json:"id"`
	Site     string      `json:"site"`
	Kiosk    string      `json:"kiosk"`
	Name     CommandName `json:"name"`
	Language string      `json:"language,omitempty"`
	Issued   time.Time   `json:"issued"`
	Expires  time.Time   `json:"expires"`
	KeyID    Token       `json:"key_id"`
	Sig      []byte      `json:"sig"`
	// Config is apply_config's central configuration, a config.json
	// fragment of managed fields (config.ParseOverlay).
	Config json.RawMessage `json:"config,omitempty"`
}

// SigningBytes is the exact text the signature covers (docs/mqtt.md).
// An apply_config command's configuration follows the key line as its
// SHA-256, so every other command signs the same bytes as before.
func (c Command) SigningBytes() []byte {
	b := fmt.Appendf(nil, "nhikiosk-cmd-v1\nid=%s\nsite=%s\nkiosk=%s\nname=%s\nlanguage=%s\nissued=%d\nexpires=%d\nkey=%s\n",
		c.ID, c.Site, c.Kiosk, c.Name, c.Language, c.Issued.UnixMilli(), c.Expires.UnixMilli(), c.KeyID)
	if c.Name == CmdApplyConfig {
		b = appendConfigLine(b, c.Config)
	}
	return b
}

// Validate checks a command's shape (not its signature or time).
func (c Command) Validate() error {
	switch {
	case c.V != SchemaVersion:
		return fmt.Errorf("command: version %d, want %d", c.V, SchemaVersion)
	case c.ID == "" || !c.ID.Valid():
		return errors.New("command: id must be a non-empty token")
	case !ValidName(c.Site) || !ValidName(c.Kiosk):
		return errors.New("command: site and kiosk must be names")
	case !c.KeyID.Valid():
		return errors.New("command: key id is not a token")
	}
	if c.Name != CmdApplyConfig && len(c.Config) > 0 {
		return fmt.Errorf("command: %s takes no configuration", c.Name)
	}
	switch c.Name {
	case CmdApplyConfig:
		return c.validateConfig()
	case CmdSetLanguage:
		for _, l := range Languages {
			if c.Language == l {
				return nil
			}
		}
		return fmt.Errorf("command: language %q is not one of %v", c.Language, Languages)
	case CmdReboot, CmdRestart, CmdMaintenanceOn, CmdMaintenanceOff, CmdReloadConfig, CmdSelfTest, CmdScreenshot:
		if c.Language != "" {
			return fmt.Errorf("command: %s takes no language", c.Name)
		}
		return nil
	}
	return fmt.Errorf("command: unknown command %q", c.Name)
}

// Signer signs commands with one operator key.
type Signer struct {
	KeyID Token
	Key   ed25519.PrivateKey
}

// Sign fills in KeyID and Sig.
func (s Signer) Sign(c *Command) {
	c.KeyID = s.KeyID
	c.Sig = ed25519.Sign(s.Key, c.SigningBytes())
}

// PublicLine is the line a kiosk's operator_keys_file needs for this key.
func (s Signer) PublicLine() string {
	return string(s.KeyID) + " " + base64.StdEncoding.EncodeToString(s.Key.Public().(ed25519.PublicKey))
}

// Keyring is the set of operator public keys a kiosk trusts, by key id.
type Keyring map[Token]ed25519.PublicKey

// ParseKeyring reads an operator keys file: one key a line, "KEYID
// BASE64-ED25519-PUBLIC-KEY"; blank lines and lines starting with # are
// ignored.
func ParseKeyring(b []byte) (Keyring, error) {
	kr := Keyring{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 || f[0] == "" || !Token(f[0]).Valid() {
			return nil, fmt.Errorf("parse operator keys: line %d: want \"KEYID BASE64KEY\"", n)
		}
		pub, err := base64.StdEncoding.DecodeString(f[1])
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("parse operator keys: line %d: not a base64 Ed25519 public key", n)
		}
		kr[Token(f[0])] = ed25519.PublicKey(pub)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse operator keys: %w", err)
	}
	if len(kr) == 0 {
		return nil, errors.New("parse operator keys: no key in file")
	}
	return kr, nil
}

// Verify checks c for kiosk self at time now: shape, target, signature and
// validity window. It does not check replays (the Agent does). The
// returned reason says why a command is refused.
func (kr Keyring) Verify(c Command, self KioskRef, now time.Time) (RejectReason, error) {
	if err := c.Validate(); err != nil {
		return RejectMalformed, err
	}
	if len(c.Sig) == 0 {
		return RejectUnsigned, errors.New("command is not signed")
	}
	pub, ok := kr[c.KeyID]
	if !ok {
		return RejectUnknownKey, fmt.Errorf("command signed by unknown key %q", c.KeyID)
	}
	if !ed25519.Verify(pub, c.SigningBytes(), c.Sig) {
		return RejectBadSig, errors.New("command signature does not verify")
	}
	if c.Site != self.Site || c.Kiosk != self.Kiosk {
		return RejectWrongKiosk, fmt.Errorf("command is for %s/%s", c.Site, c.Kiosk)
	}
	if c.Expires.Sub(c.Issued) > MaxCommandLifetime {
		return RejectTooFar, fmt.Errorf("command valid for longer than %v", MaxCommandLifetime)
	}
	if c.Issued.After(now.Add(MaxClockSkew)) {
		return RejectNotYetValid, fmt.Errorf("command issued %v in the future", c.Issued.Sub(now).Round(time.Second))
	}
	if !now.Before(c.Expires) {
		return RejectExpired, fmt.Errorf("command expired at %v", c.Expires)
	}
	return "", nil
}
