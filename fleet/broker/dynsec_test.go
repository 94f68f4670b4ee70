package broker

import (
	"testing"
)

func TestParseDynsecAnswer(t *testing.T) {
	rs := parseDynsecAnswer([]byte(`{"responses":[{"command":"createClient","error":"Client already exists","correlationData":"c1"},` +
		`{"command":"getRole","data":{"role":{"rolename":"r"}},"correlationData":"c2"}]}`))
	if len(rs) != 2 || rs[0].Error != "Client already exists" || rs[0].Corr != "c1" || rs[1].Error != "" || rs[1].Corr != "c2" {
		t.Errorf("parseDynsecAnswer = %+v", rs)
	}
	for _, bad := range []string{"", "{", "[]", `{"responses":"x"}`} {
		if rs := parseDynsecAnswer([]byte(bad)); len(rs) != 0 {
			t.Errorf("parseDynsecAnswer(%q) = %+v, want nothing", bad, rs)
		}
	}
}

// FuzzParseDynsecAnswer: whatever the broker sends on the answer topic,
// parsing never panics and never yields more results than it could hold.
func FuzzParseDynsecAnswer(f *testing.F) {
	f.Add([]byte(`{"responses":[{"command":"disableClient","correlationData":"fleetd-0a-1"}]}`))
	f.Add([]byte(`{"responses":[{"command":"createRole","error":"Role already exists"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if rs := parseDynsecAnswer(b); len(rs) > len(b) {
			t.Errorf("%d results from %d bytes", len(rs), len(b))
		}
	})
}
