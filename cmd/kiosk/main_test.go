package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

func TestCheckConfig(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // substring
		wantStderr []string
	}{
		{"bad file lists every problem", []string{"-check-config", "../../testdata/bad-config.json"}, exitBadConfig, "",
			[]string{"colour: unknown field", "upstream.url: must be an https URL", "panel.tamper:", "kiosk_id: must be set"}},
		{"good file prints effective config", []string{"-check-config", "../../testdata/good-config.json"}, 0,
			`"client_key_file": "/perm/nhikiosk/kiosk.key"`, nil},
		{"override makes it bad", []string{"-check-config", "../../testdata/good-config.json", "-set", "display.dpi=5"}, exitBadConfig, "",
			[]string{"display.dpi: must be between 50 and 600"}},
		{"missing file", []string{"-check-config", "no-such.json"}, exitBadConfig, "", []string{"configuration file not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(tt.args, &stdout, &stderr)
			if got := exitCode(err); got != tt.wantCode {
				t.Fatalf("run(%q) exit = %d, want %d (stderr %s)", tt.args, got, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %s, want it to contain %s", stdout.String(), tt.wantStdout)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr = %s, want it to contain %q", stderr.String(), w)
				}
			}
		})
	}
}

func TestMissingConfigExits125(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run([]string{"-config-dir", t.TempDir()}, &stdout, &stderr)
	if got := exitCode(err); got != exitNoRestart {
		t.Fatalf("run without config.json exit = %d, want %d", got, exitNoRestart)
	}
	if !strings.Contains(err.Error(), "no configuration: put config.json in") {
		t.Errorf("error = %v, want it to say what is missing", err)
	}
}

func TestInvalidConfigExits125(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../../testdata/bad-config.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = run([]string{"-config-dir", dir}, &stdout, &stderr)
	if got := exitCode(err); got != exitNoRestart {
		t.Fatalf("run with a bad config.json exit = %d, want %d", got, exitNoRestart)
	}
	if !strings.Contains(err.Error(), "reader.backend") {
		t.Errorf("error = %v, want the problems listed", err)
	}
}

func TestBadSetExits125(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run([]string{"-demo", "-set", "display.nope=1"}, &stdout, &stderr)
	if got := exitCode(err); got != exitNoRestart {
		t.Fatalf("run -set unknown exit = %d, want %d", got, exitNoRestart)
	}
}
