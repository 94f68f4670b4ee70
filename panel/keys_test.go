package panel

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

func TestKeysAndHeadphones(t *testing.T) {
	down, sel, help, phones := inPin("down"), inPin("select"), inPin("help"), inPin("phones")
	for _, p := range []interface{ Out(gpio.Level) error }{down, sel, help} {
		p.Out(gpio.High) // released: pulled up
	}
	var mu sync.Mutex
	var got []string
	note := func(s string) { mu.Lock(); got = append(got, s); mu.Unlock() }
	p := New(Pins{KeyDown: down, KeySelect: sel, KeyHelp: help, Headphones: phones}, Callbacks{
		Key:        func(k Key, held bool) { note(fmt.Sprintf("key %d held %t", k, held)) },
		Headphones: func(in bool) { note(fmt.Sprintf("headphones %t", in)) },
	}, nil)
	p.hold = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	n := func(k int, what string) {
		waitFor(t, func() bool { return len(snapshot(&mu, &got)) == k }, what)
	}
	waitFor(t, func() bool {
		return pull(down) == gpio.PullUp && pull(help) == gpio.PullUp && pull(phones) == gpio.PullUp
	}, "keys configured")
	phones.EdgesChan <- gpio.Low // a plug goes in
	n(1, "headphones in")
	down.EdgesChan <- gpio.Low
	n(2, "down pressed")
	down.EdgesChan <- gpio.High
	help.EdgesChan <- gpio.Low
	time.Sleep(30 * time.Millisecond)
	help.EdgesChan <- gpio.High
	n(3, "help tapped")
	help.EdgesChan <- gpio.Low
	n(4, "help held")
	help.EdgesChan <- gpio.High
	phones.EdgesChan <- gpio.High
	n(5, "headphones out")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []string{"headphones true", "key 2 held false", "key 5 held false", "key 5 held true", "headphones false"}
	if g := snapshot(&mu, &got); fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("callbacks %q, want %q", g, want)
	}
}
