package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEReference keeps the README's configuration reference in step
// with the fields: every field must be documented there.
func TestREADMEReference(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, f := range Fields() {
		if !strings.Contains(readme, "`"+f+"`") {
			t.Errorf("README.md's configuration reference does not document `%s`", f)
		}
	}
}
