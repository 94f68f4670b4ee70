//go:build !gokrazy

package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/internal/itest"
)

// TestWebAnywhere: a kiosk that is not the demo shows its screen as a web
// page when configured so, and says where.
func TestWebAnywhere(t *testing.T) {
	itest.File(t, config.DebianFont, "fonts-noto-cjk")
	// A kiosk of its own on this machine: a reader through usbfs (none
	// here), an upstream on loopback (not running).
	dir := t.TempDir()
	conf := `{"site": "test", "kiosk_id": "web-1", "upstream": {"url": "http://127.0.0.1:9"},
		"display": {"backend": "web", "web_listen": "127.0.0.1:0"}}`
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() { done <- runContext(ctx, []string{"-config-dir", dir}, &stdout, &stderr) }()
	url := regexp.MustCompile(`screen is at (http://127\.0\.0\.1:\d+/)`)
	var m []string
	for deadline := time.Now().Add(20 * time.Second); m == nil && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		m = url.FindStringSubmatch(stdout.String())
	}
	if m == nil {
		cancel()
		t.Fatalf("no page address printed: %v\n%s\n%s", <-done, stdout.String(), stderr.String())
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s", m[1], resp.Status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("kiosk = %v\n%s", err, stderr.String())
	}
}

// TestWebExposedSaysSo: bound beyond loopback, the kiosk prints a banner
// and logs a warning.
func TestWebExposedSaysSo(t *testing.T) {
	cfg := config.Demo()
	cfg.Display.WebListen = ":0"
	var stdout, logs bytes.Buffer
	s, err := openWeb(cfg, nil, slog.New(slog.NewJSONHandler(&logs, nil)), &stdout)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.Contains(stdout.String(), "WARNING: the kiosk's screen is served on :0") ||
		!strings.Contains(stdout.String(), "Anyone who can reach that address") {
		t.Errorf("no banner:\n%s", stdout.String())
	}
	if !strings.Contains(logs.String(), `"level":"WARN"`) {
		t.Errorf("no warning logged:\n%s", logs.String())
	}
}

// TestWebUsualPortTaken: when something else has 127.0.0.1:8480 the kiosk
// takes a free port and prints it.
func TestWebUsualPortTaken(t *testing.T) {
	if ln, err := net.Listen("tcp", config.DefaultWebListen); err == nil {
		defer ln.Close()
	} // else someone else has it: taken all the same
	var stdout bytes.Buffer
	s, err := openWeb(config.Demo(), nil, slog.New(slog.DiscardHandler), &stdout)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if strings.Contains(stdout.String(), ":8480/") || !strings.Contains(stdout.String(), "screen is at http://127.0.0.1:") {
		t.Errorf("printed:\n%s", stdout.String())
	}
}
