package upstream_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

func TestDecodeStrict(t *testing.T) {
	good := mustJSON(t, upstreamtest.Person(1))
	for _, tt := range []struct {
		name string
		body string
		want error // nil: accepted
	}{
		{"a registration", string(good), nil},
		{"invalid UTF-8", strings.Replace(string(good), "test1@", "t\xffst1@", 1), upstream.ErrNotUTF8},
		{"lone surrogate", strings.Replace(string(good), "test1@", `t\ud800st1@`, 1), upstream.ErrReplacement},
		{"U+FFFD", strings.Replace(string(good), "test1@", "t\uFFFDst1@", 1), upstream.ErrReplacement},
		{"key in other case", strings.Replace(string(good), `"card_number"`, `"Card_Number"`, 1), upstream.ErrKeyCase},
		{"nested key in other case", strings.Replace(string(good), `"mobile"`, `"MOBILE"`, 1), upstream.ErrKeyCase},
		{"duplicate key", strings.Replace(string(good), `{"card_number"`, `{"name":"x","card_number"`, 1), upstream.ErrDuplicateKey},
		{"duplicate nested key", strings.Replace(string(good), `"mobile":`, `"email":"a@example.com","mobile":`, 1), upstream.ErrDuplicateKey},
		{"unknown key", strings.Replace(string(good), `{"card_number"`, `{"admin":true,"card_number"`, 1), upstream.ErrUnknownKey},
		{"trailing data", string(good) + "{}", upstream.ErrTrailing},
		{"too deep", `{"card_number":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, upstream.ErrTooDeep},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var r upstream.Registration
			err := upstream.DecodeStrict([]byte(tt.body), &r)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("DecodeStrict = %v, want %v", err, tt.want)
			}
		})
	}
	var r upstream.Registration
	var te *json.UnmarshalTypeError
	if err := upstream.DecodeStrict([]byte(`{"household":{"neighbourhood":"3"}}`), &r); !errors.As(err, &te) {
		t.Errorf("wrong type = %v, want *json.UnmarshalTypeError", err)
	}
}

// FuzzDecodeStrict: whatever the bytes, DecodeStrict does not panic, and
// what it accepts is valid UTF-8 without U+FFFD that decodes to the same
// value as encoding/json would, and encodes back to an accepted body.
func FuzzDecodeStrict(f *testing.F) {
	f.Add(mustJSON(f, upstreamtest.Person(1)))
	f.Add([]byte(`{"card_number":"1","card_number":"2"}`))
	f.Add([]byte(`{"Name":"x"}`))
	f.Add([]byte("{\"name\":\"\xff\"}"))
	f.Add([]byte(`{"name":"\ud800"}`))
	f.Add([]byte(`[[[[{}]]]]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r upstream.Registration
		if upstream.DecodeStrict(b, &r) != nil {
			return
		}
		if !utf8.Valid(b) || bytes.ContainsRune(b, utf8.RuneError) {
			t.Fatalf("accepted a body that is not clean UTF-8: %q", b)
		}
		var lax upstream.Registration
		if err := json.Unmarshal(b, &lax); err != nil || !reflect.DeepEqual(lax, r) {
			t.Fatalf("encoding/json reads %q otherwise: %+v, %v", b, lax, err)
		}
		again, err := upstream.EncodeBody(r)
		if err != nil {
			t.Fatal(err)
		}
		var back upstream.Registration
		if err := upstream.DecodeStrict(again, &back); err != nil || !reflect.DeepEqual(back, r) {
			t.Fatalf("re-encoded %q: %v", again, err)
		}
	})
}

// TestEncodeBody: the kiosk's own encoder writes every request type as
// encoding/json does.
func TestEncodeBody(t *testing.T) {
	p := upstreamtest.Person(7)
	p.Name = "<測試>&\u2028\"\\\n\t\x01"
	for _, v := range []any{
		p, upstream.Identify{CardNumber: "1", IDNumber: "2"}, upstream.Verification{Code: "123456"},
		upstream.Cancellation{Password: "a\"b"}, upstream.ResetConfirm{NewPassword: "x"}, upstream.Login{},
		upstream.Contact{Email: "a@example.com"}, upstream.EmailConfirm{}, upstream.PasswordChange{},
		upstream.BindingStart{Via: "sms"}, upstream.Bind{DeviceName: "手機"}, upstream.DeviceRemove{}, struct{}{},
		upstream.CardAuthBegin{CardNumber: "1", ATR: []byte{0x3b, 0xff, 0}}, upstream.CardAuthBegin{},
		upstream.CardAuthRespond{Responses: []upstream.CardResponse{{Data: []byte("\x90\x00+/"), SW: "9000"}, {}}},
		upstream.CardAuthRespond{Responses: []upstream.CardResponse{}},
	} {
		got, err := upstream.EncodeBody(v)
		want, _ := json.Marshal(v)
		if err != nil || !bytes.Equal(got, want) || cap(got) != len(got) {
			t.Errorf("EncodeBody(%T) = %s (cap %d), %v; want %s", v, got, cap(got), err, want)
		}
	}
	if _, err := upstream.EncodeBody(map[string]string{}); err == nil {
		t.Error("EncodeBody of a map: no error")
	}
}

// FuzzEncodeBody: for any strings, EncodeBody agrees with encoding/json.
func FuzzEncodeBody(f *testing.F) {
	f.Add("測試", "a@example.com", "Pw1!\u2028", 3)
	f.Add("\xff\xfe", "<x>", "\x00", -1)
	f.Fuzz(func(t *testing.T, name, email, pw string, n int) {
		p := upstreamtest.Person(1)
		p.Name, p.Contact.Email, p.Password, p.Household.Neighbourhood = name, email, pw, n
		got, err := upstream.EncodeBody(p)
		want, _ := json.Marshal(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("EncodeBody = %s, %v; encoding/json %s", got, err, want)
		}
	})
}
