package upstream

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// EncodeBody encodes a request body (one of the API's request types:
// structs of strings, integers, byte slices, slices and structs) as JSON, byte for byte as
// encoding/json would, into one slice allocated at its exact size and
// shared with nobody. encoding/json keeps a copy of every encoding in its
// internal buffer pool, where a password would stay readable after the
// kiosk's session is wiped (issue 13); the caller zeroes this slice with
// clear once the request is done, and then no copy remains.
func EncodeBody(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	var e bodyEncoder
	if err := e.value(rv); err != nil {
		return nil, err
	}
	e.buf = make([]byte, 0, e.n)
	e.n = 0
	_ = e.value(rv)
	return e.buf, nil
}

// bodyEncoder runs twice: first counting (buf nil), then writing into a
// buffer of the counted size.
type bodyEncoder struct {
	buf []byte
	n   int
}

func (e *bodyEncoder) raw(s ...byte) {
	e.n += len(s)
	if e.buf != nil {
		e.buf = append(e.buf, s...)
	}
}

func (e *bodyEncoder) str(s string) {
	e.n += len(s)
	if e.buf != nil {
		e.buf = append(e.buf, s...)
	}
}

func (e *bodyEncoder) value(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			e.str("null")
			return nil
		}
		return e.value(v.Elem())
	case reflect.String:
		e.quote(v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var b [20]byte
		e.raw(strconv.AppendInt(b[:0], v.Int(), 10)...)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var b [20]byte
		e.raw(strconv.AppendUint(b[:0], v.Uint(), 10)...)
	case reflect.Bool:
		e.str(strconv.FormatBool(v.Bool()))
	case reflect.Struct:
		return e.object(v)
	case reflect.Slice:
		if v.IsNil() {
			e.str("null")
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			// []byte is base64 (RFC 4648 §4, padded), as encoding/json.
			b := v.Bytes()
			e.raw('"')
			e.n += base64.StdEncoding.EncodedLen(len(b))
			if e.buf != nil {
				e.buf = base64.StdEncoding.AppendEncode(e.buf, b)
			}
			e.raw('"')
			return nil
		}
		e.raw('[')
		for i := range v.Len() {
			if i > 0 {
				e.raw(',')
			}
			if err := e.value(v.Index(i)); err != nil {
				return err
			}
		}
		e.raw(']')
	default:
		return fmt.Errorf("encode body: %s is not a request type", v.Type())
	}
	return nil
}

func (e *bodyEncoder) object(v reflect.Value) error {
	e.raw('{')
	first := true
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fv := v.Field(i)
		if strings.Contains(","+opts+",", ",omitempty,") && empty(fv) {
			continue
		}
		if !first {
			e.raw(',')
		}
		first = false
		e.quote(name)
		e.raw(':')
		if err := e.value(fv); err != nil {
			return err
		}
	}
	e.raw('}')
	return nil
}

// empty is encoding/json's test for omitempty.
func empty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		return v.Len() == 0
	case reflect.Struct:
		return false
	}
	return v.IsZero()
}

const hexDigits = "0123456789abcdef"

// quote writes s as a JSON string, escaping as encoding/json does
// (HTML-safe, U+2028 and U+2029, invalid UTF-8 as U+FFFD).
func (e *bodyEncoder) quote(s string) {
	e.raw('"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			e.str(s[start:i])
			switch b {
			case '\\', '"':
				e.raw('\\', b)
			case '\b':
				e.raw('\\', 'b')
			case '\f':
				e.raw('\\', 'f')
			case '\n':
				e.raw('\\', 'n')
			case '\r':
				e.raw('\\', 'r')
			case '\t':
				e.raw('\\', 't')
			default:
				e.raw('\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			e.str(s[start:i])
			e.str(`\ufffd`)
		case c == '\u2028' || c == '\u2029':
			e.str(s[start:i])
			e.raw('\\', 'u', '2', '0', '2', hexDigits[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	e.str(s[start:])
	e.raw('"')
}
