package httpserve

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestHTTPServesUntilCancelled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "up") })}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- HTTP(ctx, "test", hs, ln) }()

	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + ln.Addr().String())
	if err != nil {
		t.Fatalf("GET while serving: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, want := string(b), "up"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("HTTP after cancel = %v, want nil", err)
	}
	if _, err := c.Get("http://" + ln.Addr().String()); err == nil {
		t.Error("GET after shutdown succeeded, want the listener closed")
	}
}

func TestHTTPReportsServeFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // Serve fails at once on a closed listener
	err = HTTP(context.Background(), "closed", &http.Server{}, ln)
	if err == nil {
		t.Fatal("HTTP on a closed listener = nil, want an error")
	}
}
