package upstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Errors of DecodeStrict. Their texts name no value and no key, so they
// are safe to return and to log.
var (
	ErrNotUTF8      = errors.New("the body is not valid UTF-8")
	ErrReplacement  = errors.New("a string holds U+FFFD or an escaped lone surrogate")
	ErrDuplicateKey = errors.New("an object has the same key twice")
	ErrKeyCase      = errors.New("a key differs from a field's name only in case")
	ErrUnknownKey   = errors.New("an object has a key that is not a field")
	ErrTooDeep      = errors.New("the JSON is nested too deeply")
	ErrTrailing     = errors.New("trailing data after the JSON object")
)

// maxDepth bounds nesting in DecodeStrict; the API's bodies nest 3 deep.
const maxDepth = 16

// DecodeStrict decodes the JSON object in b into v (a pointer), refusing
// what encoding/json would let through silently (issue 13): bytes that are
// not UTF-8 (it would replace them with U+FFFD, so an e-mail address would
// be mailed altered), escapes of lone surrogates (replaced the same way),
// keys that match a field only without regard to case, the same key twice
// (the last would win), unknown keys, and anything after the object. Type
// errors come from encoding/json as *json.UnmarshalTypeError.
func DecodeStrict(b []byte, v any) error {
	if !utf8.Valid(b) {
		return ErrNotUTF8
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := walk(dec, reflect.TypeOf(v), 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return ErrTrailing
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// walk reads one JSON value from dec, checking it against t (nil: any
// type, checked only for UTF-8 and duplicate keys).
func walk(dec *json.Decoder, t reflect.Type, depth int) error {
	if depth > maxDepth {
		return ErrTooDeep
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("the body is not valid JSON: %w", syntaxOnly(err))
	}
	switch tok := tok.(type) {
	case string:
		if strings.ContainsRune(tok, utf8.RuneError) {
			return ErrReplacement
		}
	case json.Delim:
		switch tok {
		case '{':
			return walkObject(dec, t, depth)
		case '[':
			var elem reflect.Type
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				elem = t.Elem()
			}
			for dec.More() {
				if err := walk(dec, elem, depth+1); err != nil {
					return err
				}
			}
			_, err := dec.Token()
			return syntaxOnly(err)
		}
	}
	return nil
}

func walkObject(dec *json.Decoder, t reflect.Type, depth int) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	switch {
	case t != nil && t.Kind() == reflect.Struct:
		fields = jsonFields(t)
	case t != nil && t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("the body is not valid JSON: %w", syntaxOnly(err))
		}
		key, _ := tok.(string)
		if strings.ContainsRune(key, utf8.RuneError) {
			return ErrReplacement
		}
		if seen[key] {
			return ErrDuplicateKey
		}
		seen[key] = true
		ft := elem
		if fields != nil {
			var ok bool
			if ft, ok = fields[key]; !ok {
				for name := range fields {
					if strings.EqualFold(name, key) {
						return ErrKeyCase
					}
				}
				return ErrUnknownKey
			}
		}
		if err := walk(dec, ft, depth+1); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return syntaxOnly(err)
}

// jsonFields maps a struct's JSON names to their types (encoding/json's
// rules for tags and embedded structs, as far as the API's types use
// them).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		switch {
		case name == "-" && !strings.HasPrefix(tag, "-,"):
			continue
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			for k, v := range jsonFields(f.Type) {
				m[k] = v
			}
			continue
		case !f.IsExported():
			continue
		case name == "":
			name = f.Name
		}
		m[name] = f.Type
	}
	return m
}

// syntaxOnly keeps a decoder error's kind but drops its text, which may
// quote the input.
func syntaxOnly(err error) error {
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New("syntax error")
	}
	return errors.New("bad token")
}
