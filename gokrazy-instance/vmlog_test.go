package instance

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// guestLog follows what the kiosk in the guest logs (slog JSON, one line
// per event; never personal data): gokrazy keeps each service's last
// lines and streams them, then every new one, on its web interface
// (forwarded to the host), so one connection made early and kept open
// sees every line. Should the connection break, the next one's replay is
// merged with what was read before.
type guestLog struct {
	mu   sync.Mutex
	read []string // the lines of the connections that ended, merged
	cur  []string // the lines of the open connection
}

// gokrazyLogLines is how many lines gokrazy keeps of each stream and
// replays to a new connection (its lineRingBuffer).
const gokrazyLogLines = 100

// logLine is a line of the kiosk's log and the guest's time in it (zero
// when the line is not the kiosk's JSON).
type logLine struct {
	line  string
	guest time.Time
}

// followKioskLog connects to gokrazy's web interface at web (retrying
// until it and the kiosk service are up) and collects until the test ends.
func followKioskLog(t *testing.T, web string) *guestLog {
	g := &guestLog{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			g.follow(ctx, web)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return g
}

// follow reads the log stream once, until it breaks or ctx ends.
func (g *guestLog) follow(ctx context.Context, web string) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+web+"/log?path=/user/kiosk&stream=both", nil)
	req.SetBasicAuth("gokrazy", vmPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return
	}
	defer func() {
		g.mu.Lock()
		g.read, g.cur = merged(g.read, g.cur), nil
		g.mu.Unlock()
	}()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		g.mu.Lock()
		g.cur = append(g.cur, sc.Text())
		g.mu.Unlock()
	}
}

// merged is read followed by the lines of cur it does not hold yet: a
// new connection's replay may begin with the end of read. Where lines
// repeat, the longest overlap wins, so a line is never counted twice.
func merged(read, cur []string) []string {
	for i := max(0, len(read)-gokrazyLogLines); i < len(read); i++ {
		n := min(len(read)-i, len(cur))
		if slices.Equal(read[i:i+n], cur[:n]) {
			return append(read[:len(read):len(read)], cur[n:]...)
		}
	}
	return append(read[:len(read):len(read)], cur...)
}

func (g *guestLog) lines() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return merged(g.read, g.cur)
}

// String returns every line the kiosk logged so far.
func (g *guestLog) String() string { return strings.Join(g.lines(), "\n") }

// count returns how many lines so far contain s.
func (g *guestLog) count(s string) int {
	n := 0
	for _, l := range g.lines() {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// wait waits up to d for the n-th line (from 1) containing s, and
// returns it.
func (g *guestLog) wait(t *testing.T, s string, n int, d time.Duration) logLine {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		seen := 0
		for _, l := range g.lines() {
			if !strings.Contains(l, s) {
				continue
			}
			if seen++; seen == n {
				var v struct{ Time time.Time }
				json.Unmarshal([]byte(l), &v) // zero for a line that is not JSON
				return logLine{line: l, guest: v.Time}
			}
		}
	}
	t.Fatalf("the kiosk did not log %q %d times within %v; its log:\n%s", s, n, d, g)
	return logLine{}
}

// TestMergedLog checks how a reconnection's replay of gokrazy's last
// lines joins what was read before.
func TestMergedLog(t *testing.T) {
	for _, tc := range []struct {
		name            string
		read, cur, want []string
	}{
		{"first connection", nil, []string{"a", "b"}, []string{"a", "b"}},
		{"replay of the end, then new lines", []string{"a", "b", "c"}, []string{"b", "c", "d"}, []string{"a", "b", "c", "d"}},
		{"replay still arriving", []string{"a", "b", "c"}, []string{"b"}, []string{"a", "b", "c"}},
		{"nothing new", []string{"a", "b"}, []string{"a", "b"}, []string{"a", "b"}},
		{"more lost than gokrazy keeps", []string{"a", "b"}, []string{"x", "y"}, []string{"a", "b", "x", "y"}},
		{"a repeated line counted once", []string{"a", "x", "x"}, []string{"x", "x", "b"}, []string{"a", "x", "x", "b"}},
		{"empty replay", []string{"a"}, nil, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := merged(tc.read, tc.cur); !slices.Equal(got, tc.want) {
				t.Errorf("merged(%q, %q) = %q, want %q", tc.read, tc.cur, got, tc.want)
			}
		})
	}
}
