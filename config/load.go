package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
)

// MaxFileSize bounds config.json; a larger file is refused before parsing.
const MaxFileSize = 1 << 20

// ErrNotFound reports that the configuration directory has no config.json.
// A kiosk without its configuration cannot run; callers act on this.
var ErrNotFound = errors.New("configuration file not found")

// Problem is one thing wrong with a configuration, at a field path such as
// "upstream.url", with a reason a technician understands.
type Problem struct {
	Field  string
	Reason string
}

func (p Problem) String() string {
	if p.Field == "" {
		return p.Reason
	}
	return p.Field + ": " + p.Reason
}

// Problems is every problem found at once. It is an error.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Load reads config.json from dir over Default, resolves relative paths
// against dir, and validates the result. A missing file wraps ErrNotFound; a
// bad one returns Problems listing everything wrong.
func Load(dir string) (Config, error) {
	return LoadFile(filepath.Join(dir, FileName))
}

// LoadFile is Load for a file given by path; relative paths inside it are
// resolved against the file's directory.
func LoadFile(path string) (Config, error) {
	b, err := readBounded(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, fmt.Errorf("load %s: %w", path, ErrNotFound)
	}
	if err != nil {
		return Config{}, fmt.Errorf("load %s: %w", path, err)
	}
	c, err := Parse(b, Default())
	if err != nil {
		return Config{}, err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return Config{}, fmt.Errorf("load %s: %w", path, err)
	}
	c.ResolvePaths(dir)
	return c, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxFileSize)
	}
	return b, nil
}

// Parse decodes a config.json document over base and validates it. Every
// unknown field, wrongly typed value and invalid setting is reported at once,
// each with its path.
func Parse(b []byte, base Config) (Config, error) {
	var tree any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return Config{}, Problems{{Reason: "not valid JSON: " + jsonError(b, err)}}
	}
	if dec.More() {
		return Config{}, Problems{{Reason: "not valid JSON: more than one value in the file"}}
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		return Config{}, Problems{{Reason: "must be a JSON object such as {\"site\": \"…\"}"}}
	}
	c := base
	var ps Problems
	decodeObject(obj, reflect.ValueOf(&c).Elem(), "", &ps)
	ps = append(ps, c.Validate()...)
	if len(ps) > 0 {
		return Config{}, ps
	}
	return c, nil
}

// decodeObject fills the struct v from obj field by field, so that one bad
// field does not hide the others.
func decodeObject(obj map[string]any, v reflect.Value, prefix string, ps *Problems) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := prefix + k
		f, ok := fieldByTag(v, k)
		if !ok {
			*ps = append(*ps, Problem{path, "unknown field (check the spelling against the configuration reference)"})
			continue
		}
		if sub, isObj := obj[k].(map[string]any); isObj && f.Kind() == reflect.Struct && f.Type() != durationType {
			decodeObject(sub, f, path+".", ps)
			continue
		}
		raw, _ := json.Marshal(obj[k])
		if err := json.Unmarshal(raw, f.Addr().Interface()); err != nil {
			*ps = append(*ps, Problem{path, typeReason(f, err)})
		}
	}
}

var durationType = reflect.TypeFor[Duration]()

func typeReason(f reflect.Value, err error) string {
	switch {
	case f.Type() == durationType:
		return "must be a duration such as \"60s\" or \"2m\""
	case f.Kind() == reflect.Struct:
		return "must be an object"
	case f.Kind() == reflect.String:
		return "must be a string"
	case f.Kind() == reflect.Bool:
		return "must be true or false"
	case f.Kind() == reflect.Int:
		return "must be a whole number"
	case f.Kind() == reflect.Float64:
		return "must be a number"
	case f.Kind() == reflect.Slice:
		return "must be a list of strings such as [\"ntp.example\"]"
	}
	return err.Error()
}

// fieldByTag finds the settable field of struct v whose JSON name is name.
func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if tag == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// jsonError says where a syntax error is, as line and column.
func jsonError(b []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		// Offset counts the offending byte too.
		for _, c := range b[:max(0, min(int(se.Offset)-1, len(b)))] {
			if c == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return fmt.Sprintf("%v at line %d, column %d", se, line, col)
	}
	return err.Error()
}

// ResolvePaths makes the relative file paths of c absolute against dir.
func (c *Config) ResolvePaths(dir string) {
	for _, p := range c.paths() {
		if *p.value != "" && !filepath.IsAbs(*p.value) {
			*p.value = filepath.Join(dir, *p.value)
		}
	}
}

type pathField struct {
	name   string
	value  *string
	secret bool
}

// paths lists the fields that name files, and which of them are secrets.
func (c *Config) paths() []pathField {
	return []pathField{
		{"data_dir", &c.DataDir, false},
		{"upstream.client_cert_file", &c.Upstream.ClientCertFile, false},
		{"upstream.client_key_file", &c.Upstream.ClientKeyFile, true},
		{"upstream.ca_file", &c.Upstream.CAFile, false},
		{"mqtt.password_file", &c.MQTT.PasswordFile, true},
		{"mqtt.ca_file", &c.MQTT.CAFile, false},
		{"mqtt.client_cert_file", &c.MQTT.ClientCertFile, false},
		{"mqtt.client_key_file", &c.MQTT.ClientKeyFile, true},
		{"mqtt.operator_keys_file", &c.MQTT.OperatorKeysFile, false},
		{"display.font_file", &c.Display.FontFile, false},
	}
}

// JSON returns the effective configuration as indented JSON. Secrets are
// file paths, so this is safe to print and log.
func (c Config) JSON() []byte {
	b, _ := json.MarshalIndent(c, "", "  ")
	return append(b, '\n')
}
