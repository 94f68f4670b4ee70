package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestExitCodesAndMessages(t *testing.T) {
	seen := map[int]bool{}
	for _, e := range exitCodes {
		err := fmt.Errorf("step: %w", e.err)
		if got := exitCode(err); got != e.code {
			t.Errorf("exitCode(%v) = %d, want %d", err, got, e.code)
		}
		if seen[e.code] || e.code <= 2 {
			t.Errorf("exit code %d of %v is taken", e.code, e.err)
		}
		seen[e.code] = true
		msg := message(err)
		if !strings.HasPrefix(msg, e.what) || strings.Contains(msg, "\n") {
			t.Errorf("message(%v) = %q, want one line starting %q", err, msg, e.what)
		}
	}
	if got := exitCode(errUsage); got != 2 {
		t.Errorf("exitCode(errUsage) = %d, want 2", got)
	}
	if got := exitCode(errors.New("other")); got != 1 {
		t.Errorf("exitCode(other) = %d, want 1", got)
	}
}

func TestUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"no command":      nil,
		"unknown command": {"frobnicate"},
		"bad flag":        {"read", "--nope"},
		"extra argument":  {"watch", "extra"},
		"bad sex":         {"emulate", "--sex", "X1"},
		"bad date":        {"emulate", "--birth", "1990-02-30"},
		"bad kind":        {"emulate", "--kind", "teapot"},
		"bad pad":         {"emulate", "--pad", "tab"},
		"bad pull-on":     {"emulate", "--pull-on", "never"},
		"name too long":   {"emulate", "--name", "測試一二三四五六七八九十"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), args, &out, &errOut)
			if !errors.Is(err, errUsage) {
				t.Errorf("run(%q) = %v, want a usage error", args, err)
			}
			if errOut.Len() == 0 {
				t.Errorf("run(%q) said nothing on stderr", args)
			}
		})
	}
}
