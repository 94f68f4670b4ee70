package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// CentralFileName is the file in the configuration directory that holds the
// central configuration fleetd last sent (issue 19): managed fields only,
// laid over config.json when the kiosk starts.
const CentralFileName = "central.json"

// MaxOverlaySize bounds a central configuration document (it travels in a
// signed MQTT command).
const MaxOverlaySize = 2 << 10

// managed lists the fields a central configuration may set. Everything
// else stays in the kiosk's own config.json: its identity (site,
// kiosk_id), every file path and so every secret (the paths name the
// files that hold them), its broker connection (a wrong one would cut the
// kiosk off for good), its hardware backends and the web display's listen
// address.
var managed = []string{
	"language",
	"session.idle_timeout", "session.warning_countdown", "session.removed_screen", "session.max_duration",
	"upstream.url", "upstream.timeout", "upstream.age_recipient",
	"mqtt.health_interval",
	"display.width", "display.height", "display.dpi", "display.fullscreen", "display.font_index", "display.theme",
	"display.backlight",
	"panel.led_ready", "panel.led_busy", "panel.led_fault", "panel.buzzer", "panel.presence", "panel.tamper",
	"time.ntp_servers", "time.sync_interval",
}

// Managed returns the field paths a central configuration may set, sorted.
func Managed() []string {
	out := slices.Clone(managed)
	sort.Strings(out)
	return out
}

// IsField reports whether path is a field of the configuration.
func IsField(path string) bool { return slices.Contains(Fields(), path) }

// IsManaged reports whether a central configuration may set field path.
func IsManaged(path string) bool { return slices.Contains(managed, path) }

// Overlay is a central configuration: values for some managed fields, by
// path ("session.idle_timeout"), each in its canonical JSON form (a
// duration as time.Duration prints it), so two overlays that mean the same
// compare and hash the same. The zero value sets nothing.
type Overlay map[string]json.RawMessage

// ParseOverlay decodes a central configuration written as a config.json
// fragment ({"session": {"idle_timeout": "45s"}}). Every field must be
// managed and well typed; all problems are reported at once, each with its
// path. It does not check the values against the rest of a configuration:
// Apply does.
func ParseOverlay(b []byte) (Overlay, error) {
	if len(b) > MaxOverlaySize {
		return nil, Problems{{Reason: fmt.Sprintf("central configuration larger than %d bytes", MaxOverlaySize)}}
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil, Problems{{Reason: "not valid JSON: " + jsonError(b, err)}}
	}
	if dec.More() {
		return nil, Problems{{Reason: "not valid JSON: more than one value"}}
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		return nil, Problems{{Reason: "must be a JSON object such as {\"language\": \"en\"}"}}
	}
	var ps Problems
	var leaves []string
	collectLeaves(obj, "", &leaves, &ps)
	scratch := Default()
	var typed Problems
	decodeObject(obj, reflect.ValueOf(&scratch).Elem(), "", &typed)
	for _, p := range typed {
		if IsManaged(p.Field) {
			ps = append(ps, p)
		}
	}
	if len(ps) > 0 {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Field < ps[j].Field })
		return nil, ps
	}
	o := Overlay{}
	for _, path := range leaves {
		v, _ := fieldByPath(reflect.ValueOf(&scratch).Elem(), path)
		o[path], _ = json.Marshal(v.Interface())
	}
	if len(o.JSON()) > MaxOverlaySize {
		return nil, Problems{{Reason: fmt.Sprintf("central configuration larger than %d bytes", MaxOverlaySize)}}
	}
	return o, nil
}

// collectLeaves lists the field paths obj sets, refusing those that are
// not managed.
func collectLeaves(obj map[string]any, prefix string, leaves *[]string, ps *Problems) {
	for k, v := range obj {
		path := prefix + k
		switch {
		case IsManaged(path):
			*leaves = append(*leaves, path)
		case isSection(path):
			if _, ok := v.(map[string]any); !ok {
				*ps = append(*ps, Problem{path, "must be an object"})
				continue
			}
			collectLeaves(v.(map[string]any), path+".", leaves, ps)
		case slices.Contains(Fields(), path):
			*ps = append(*ps, Problem{path, "not part of a central configuration: identity, file paths (and so secrets), the broker connection and hardware backends stay in the kiosk's config.json"})
		default:
			*ps = append(*ps, Problem{path, "unknown field (check the spelling against the configuration reference)"})
		}
	}
}

func isSection(path string) bool {
	for _, f := range Fields() {
		if strings.HasPrefix(f, path+".") {
			return true
		}
	}
	return false
}

// fieldByPath finds the field of struct v at a dotted path.
func fieldByPath(v reflect.Value, path string) (reflect.Value, bool) {
	for _, part := range strings.Split(path, ".") {
		if v.Kind() != reflect.Struct || v.Type() == durationType {
			return reflect.Value{}, false
		}
		f, ok := fieldByTag(v, part)
		if !ok {
			return reflect.Value{}, false
		}
		v = f
	}
	return v, true
}

// Fields returns the overlay's field paths, sorted.
func (o Overlay) Fields() []string {
	out := make([]string, 0, len(o))
	for k := range o {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Merge lays overlays over o in order: a later one wins field by field.
func (o Overlay) Merge(later ...Overlay) Overlay {
	out := Overlay{}
	for _, l := range append([]Overlay{o}, later...) {
		for k, v := range l {
			out[k] = v
		}
	}
	return out
}

// JSON returns o as a config.json fragment with sorted keys: the form it
// is stored, sent and hashed in.
func (o Overlay) JSON() []byte {
	tree := map[string]any{}
	for path, v := range o {
		parts := strings.Split(path, ".")
		node := tree
		for _, p := range parts[:len(parts)-1] {
			sub, _ := node[p].(map[string]any)
			if sub == nil {
				sub = map[string]any{}
				node[p] = sub
			}
			node = sub
		}
		node[parts[len(parts)-1]] = v
	}
	b, _ := json.Marshal(tree) // maps marshal with sorted keys
	return b
}

// Hash is the overlay's hash, "sha256:" and 32 hex digits (128 bits of
// SHA-256 over JSON): what a kiosk that runs it reports.
func (o Overlay) Hash() string {
	sum := sha256.Sum256(o.JSON())
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// Apply sets o's fields on c and validates the result; Problems lists what
// is wrong with the combination (a pin the kiosk already uses for
// something else, a session limit shorter than its idle time…).
func (o Overlay) Apply(c Config) (Config, error) {
	v := reflect.ValueOf(&c).Elem()
	var ps Problems
	for _, path := range o.Fields() {
		f, ok := fieldByPath(v, path)
		if !ok || !IsManaged(path) {
			ps = append(ps, Problem{path, "not part of a central configuration"})
			continue
		}
		if err := json.Unmarshal(o[path], f.Addr().Interface()); err != nil {
			ps = append(ps, Problem{path, typeReason(f, err)})
		}
	}
	ps = append(ps, c.Validate()...)
	if len(ps) > 0 {
		return Config{}, ps
	}
	return c, nil
}

// EffectiveHash is the hash of c's values for o's fields, as an Overlay:
// equal to o.Hash() exactly when c runs o. A kiosk reports it for the
// central configuration it was last sent, so fleetd sees drift (a
// refused, not yet applied or locally overridden configuration) as a
// hash that differs from the one it wants.
func EffectiveHash(c Config, o Overlay) string {
	v := reflect.ValueOf(&c).Elem()
	p := Overlay{}
	for path := range o {
		if f, ok := fieldByPath(v, path); ok {
			p[path], _ = json.Marshal(f.Interface())
		}
	}
	return p.Hash()
}

// LoadOverlay reads CentralFileName from dir; no file is an empty overlay.
func LoadOverlay(dir string) (Overlay, error) {
	b, err := readBounded(filepath.Join(dir, CentralFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return Overlay{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load central configuration: %w", err)
	}
	o, err := ParseOverlay(b)
	if err != nil {
		return nil, fmt.Errorf("load central configuration: %w", err)
	}
	return o, nil
}

// Reference is a configuration with every field a central configuration
// cannot set filled with a valid placeholder: fleetd checks a central
// configuration by applying it here, by the same rules a kiosk applies it
// with (Apply, Validate), without knowing any kiosk's own file.
func Reference() Config {
	c := Default()
	c.Site, c.KioskID = "reference", "k1"
	c.Upstream.URL = "https://upstream.invalid/"
	c.Upstream.ClientCertFile, c.Upstream.ClientKeyFile = "/perm/nhikiosk/kiosk.pem", "/perm/nhikiosk/kiosk.key"
	c.Upstream.AgeRecipient = referenceRecipient
	c.MQTT.BrokerURL, c.MQTT.Username = "mqtts://broker.invalid:8883", "reference.k1"
	c.MQTT.PasswordFile, c.MQTT.OperatorKeysFile = "/perm/nhikiosk/mqtt.pass", "/perm/nhikiosk/operator-keys"
	return c
}

// referenceRecipient is a well-formed age X25519 public key whose private
// key nobody kept: a placeholder only.
const referenceRecipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
