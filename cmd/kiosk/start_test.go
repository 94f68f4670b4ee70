package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/internal/itest"
)

// lockedBuffer is a bytes.Buffer safe for the kiosk's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// goodDir is a configuration directory holding testdata/good-config.json.
func goodDir(t *testing.T) string {
	dir := t.TempDir()
	b, err := os.ReadFile("../../testdata/good-config.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, config.FileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestOpenReader(t *testing.T) {
	tests := []struct {
		backend  string
		wantType string // "" when an error is wanted
	}{
		{config.ReaderCCID, "*ccid.device"},
		{config.ReaderVirtual, ""},
	}
	for _, tt := range tests {
		t.Run(tt.backend, func(t *testing.T) {
			cfg := config.Default()
			cfg.Reader.Backend = tt.backend
			dev, err := openReader(cfg, slog.New(slog.DiscardHandler), nil)
			if tt.wantType == "" {
				if err == nil {
					t.Fatalf("openReader(%s) = %T, want an error", tt.backend, dev)
				}
				return
			}
			if err != nil {
				t.Fatalf("openReader(%s) = %v, want a device", tt.backend, err)
			}
			if got := fmt.Sprintf("%T", dev); got != tt.wantType {
				t.Errorf("openReader(%s) = %s, want %s", tt.backend, got, tt.wantType)
			}
		})
	}
}

func TestVirtualReaderOnlyForDemo(t *testing.T) {
	itest.File(t, config.DebianFont, "fonts-noto-cjk")
	var stdout, stderr bytes.Buffer
	err := run([]string{"-config-dir", goodDir(t), "-set", "reader.backend=virtual", "-set", "display.backend=headless"}, &stdout, &stderr)
	if got := exitCode(err); got != exitNoRestart || !strings.Contains(err.Error(), "only for -demo") {
		t.Fatalf("run with reader.backend=virtual = %d %v, want %d and only for -demo", got, err, exitNoRestart)
	}
}

func TestMissingFontExits125(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run([]string{"-demo", "-set", "display.backend=headless", "-set", "display.font_file=/nonexistent/font.ttc"}, &stdout, &stderr)
	if got := exitCode(err); got != exitNoRestart || !strings.Contains(err.Error(), "fonts-noto-cjk") {
		t.Fatalf("run with no font = %d %v, want %d and what to install", got, err, exitNoRestart)
	}
}

// TestDemoHeadless runs the whole demo (nhisim in process, virtual card,
// the wizard) on the headless backend and stops it.
func TestDemoHeadless(t *testing.T) {
	itest.File(t, config.DebianFont, "fonts-noto-cjk")
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- runContext(ctx, []string{"-demo", "-set", "display.backend=headless"}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stdout.String(), "nhikiosk demo") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let it run a few ticks
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo = %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "nhikiosk demo") || !strings.Contains(stderr.String(), `"msg":"kiosk stopped"`) {
		t.Errorf("demo output:\n%s\n%s", stdout.String(), stderr.String())
	}
}
