package panel

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/nhikiosk/nhikiosk/config"
)

func outPin(name string) *gpiotest.Pin { return &gpiotest.Pin{N: name} }

func inPin(name string) *gpiotest.Pin {
	return &gpiotest.Pin{N: name, EdgesChan: make(chan gpio.Level, 4)}
}

func TestLEDPatterns(t *testing.T) {
	ready, busy, fault := outPin("ready"), outPin("busy"), outPin("fault")
	p := New(Pins{LEDReady: ready, LEDBusy: busy, LEDFault: fault}, Callbacks{}, nil)
	for _, tc := range []struct {
		status Status
		want   []string // per tick: ready busy fault as 0/1
	}{
		{StatusReady, []string{"100", "100", "100", "100", "100", "100"}},
		{StatusBusy, []string{"010", "010", "010", "010", "010", "000", "000", "000", "000", "000", "010"}},
		{StatusFault, []string{"001", "001", "001"}},
		{StatusOutOfService, []string{"001", "001", "000", "000", "001"}},
		{StatusOff, []string{"000", "000"}},
	} {
		p.SetStatus(tc.status)
		for n, want := range tc.want {
			p.frame(n)
			got := bit(ready) + bit(busy) + bit(fault)
			if got != want {
				t.Errorf("status %d tick %d: LEDs %s, want %s", tc.status, n, got, want)
			}
		}
	}
}

func bit(p *gpiotest.Pin) string {
	if p.Read() == gpio.High {
		return "1"
	}
	return "0"
}

func TestBuzzer(t *testing.T) {
	buzzer := outPin("buzzer")
	p := New(Pins{Buzzer: buzzer}, Callbacks{}, nil)
	for _, tc := range []struct {
		sound Sound
		want  string
	}{
		{SoundCardInserted, "1100"},
		{SoundCardRemoved, "11001100"},
		{SoundError, "1111111100"},
	} {
		p.Play(tc.sound)
		got := ""
		for n := range len(tc.want) {
			p.frame(n)
			got += bit(buzzer)
		}
		if got != tc.want {
			t.Errorf("sound %d: buzzer %s, want %s", tc.sound, got, tc.want)
		}
	}
}

func TestNothingFitted(t *testing.T) {
	p := New(Pins{}, Callbacks{}, nil)
	if p.Fitted() {
		t.Fatal("Fitted() with no pins")
	}
	p.SetStatus(StatusBusy)
	p.Play(SoundError) // must not panic or block
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run without hardware did not return")
	}
	pins, err := Open(config.Panel{})
	if err != nil || pins != (Pins{}) {
		t.Errorf("Open(no pins) = %+v, %v; want nothing fitted", pins, err)
	}
}

func TestInputs(t *testing.T) {
	presence, tamper := inPin("presence"), inPin("tamper")
	ready := outPin("ready")
	var mu sync.Mutex
	var got []string
	note := func(s string) { mu.Lock(); got = append(got, s); mu.Unlock() }
	p := New(Pins{LEDReady: ready, Presence: presence, Tamper: tamper}, Callbacks{
		Presence: func() { note("presence") },
		Tamper: func(open bool) {
			if open {
				note("tamper open")
			} else {
				note("tamper closed")
			}
		},
	}, nil)
	p.SetStatus(StatusReady)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	// The case starts closed: the tamper pin is pulled up, so hold it low
	// once the watcher has configured it.
	waitFor(t, func() bool { return pull(tamper) == gpio.PullUp }, "tamper configured")
	waitFor(t, func() bool { return len(snapshot(&mu, &got)) == 1 }, "tamper reported open at start (pulled up)")
	tamper.EdgesChan <- gpio.Low // the case is closed
	waitFor(t, func() bool { return len(snapshot(&mu, &got)) == 2 }, "tamper closed")
	waitFor(t, func() bool { return pull(presence) == gpio.PullDown }, "presence configured")
	presence.EdgesChan <- gpio.High
	waitFor(t, func() bool { return len(snapshot(&mu, &got)) == 3 }, "presence")
	tamper.EdgesChan <- gpio.High
	waitFor(t, func() bool { return len(snapshot(&mu, &got)) == 4 }, "tamper open")
	waitFor(t, func() bool { return ready.Read() == gpio.High }, "ready LED on")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if ready.Read() != gpio.Low {
		t.Error("ready LED still on after Run returned")
	}
	want := []string{"tamper open", "tamper closed", "presence", "tamper open"}
	if g := snapshot(&mu, &got); len(g) != len(want) || g[0] != want[0] || g[1] != want[1] || g[2] != want[2] || g[3] != want[3] {
		t.Errorf("callbacks %q, want %q", g, want)
	}
}

// pull reads the fake pin's pull under its lock (gpiotest.Pin.Pull does not
// lock).
func pull(p *gpiotest.Pin) gpio.Pull {
	p.Lock()
	defer p.Unlock()
	return p.P
}

func snapshot(mu *sync.Mutex, s *[]string) []string {
	mu.Lock()
	defer mu.Unlock()
	return append([]string(nil), *s...)
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestBacklight(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "class", "backlight", "10-0045")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "max_brightness"), []byte("255\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "brightness"), []byte("255\n"), 0o644)
	b, err := OpenBacklight(root, "10-0045")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		do   func() error
		want string
	}{{b.Dim, "51\n"}, {b.Wake, "255\n"}} {
		if err := tc.do(); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(filepath.Join(dir, "brightness"))
		if string(got) != tc.want {
			t.Errorf("brightness = %q, want %q", got, tc.want)
		}
	}
	none, err := OpenBacklight(root, "")
	if err != nil || none != nil || none.Dim() != nil || none.Wake() != nil {
		t.Errorf("no backlight configured: %v, %v", none, err)
	}
	for _, bad := range []string{"missing", "../x"} {
		if _, err := OpenBacklight(root, bad); err == nil {
			t.Errorf("OpenBacklight(%q) succeeded", bad)
		}
	}
}
