package appliance

import (
	"context"
	"fmt"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
)

// Kiosk is the wizard on a screen: the machine, the view that draws it, and
// the running of the machine's jobs. All its methods run on one goroutine:
// the display's (Run), or the test's.
type Kiosk struct {
	m  *Machine
	v  *view
	ui *display.UI
	// async runs jobs in goroutines and posts their results through the
	// display's queue (Run); otherwise jobs run at once (tests).
	async bool
	// hold keeps jobs in held instead of running them (tests of the
	// screens shown while waiting).
	hold    bool
	held    []Job
	sessID  string
	sessCtx context.Context
	cancel  context.CancelFunc
	base    context.Context
	// observers follow the state (observe.go); observed is what they
	// were last told.
	observers []func(State)
	// audio is audio mode (audio.go), nil until EnableAudio.
	audio    *audio
	observed State
	// timed carries whether the machine's clock must run (timedNow),
	// from the display's goroutine to Run's ticker; wasTimed is what it
	// last carried.
	timed    chan bool
	wasTimed bool
}

// NewKiosk returns the wizard on ui, on its attract screen. It adds the
// wizard's texts to ui's catalog.
func NewKiosk(ui *display.UI, opt Options) (*Kiosk, error) {
	if err := AddMessages(ui.Catalog()); err != nil {
		return nil, err
	}
	k := &Kiosk{m: NewMachine(opt), ui: ui, base: context.Background()}
	k.v = newView(k.m, ui, k.Dispatch)
	k.sessCtx, k.cancel = context.WithCancel(k.base)
	k.v.sync()
	k.observed = k.state()
	return k, nil
}

// Start runs the kiosk's start-up jobs (fetching the division list). Run
// calls it; tests that drive the kiosk themselves call it once.
func (k *Kiosk) Start() { k.runJobs(k.m.Start()) }

// Machine returns the state machine, for tests.
func (k *Kiosk) Machine() *Machine { return k.m }

// Dispatch hands one event to the machine, redraws, and runs the jobs it
// asked for. Call it on the display's goroutine.
func (k *Kiosk) Dispatch(ev Event) {
	jobs := k.m.Handle(ev)
	if id := k.m.SessionID(); id != k.sessID {
		// A session ended or began: whatever the old one still waits
		// for is cancelled.
		k.cancel()
		k.sessID = id
		k.sessCtx, k.cancel = context.WithCancel(k.base)
	}
	k.v.sync()
	k.audio.after()
	k.notify()
	k.clock()
	k.runJobs(jobs)
}

// timedNow says whether time passing can change anything: in a session
// (idle warning, maximum time, polls) and on screens that time out. On
// the attract and out-of-service screens between sessions nothing does,
// and the kiosk sleeps.
func (k *Kiosk) timedNow() bool {
	switch k.m.Screen() {
	case ScreenAttract, ScreenOutOfService:
		return k.m.SessionID() != ""
	}
	return true
}

// clock tells Run's ticker when the machine's clock starts or stops
// mattering.
func (k *Kiosk) clock() {
	if k.timed == nil {
		return
	}
	if on := k.timedNow(); on != k.wasTimed {
		k.wasTimed = on
		select {
		case <-k.timed: // replace what was not taken yet
		default:
		}
		k.timed <- on
	}
}

func (k *Kiosk) runJobs(jobs []Job) {
	for _, j := range jobs {
		ctx := k.sessCtx
		if k.hold {
			k.held = append(k.held, j)
			continue
		}
		if !k.async {
			k.Dispatch(j(ctx))
			continue
		}
		go func() {
			ev := j(ctx)
			k.ui.Do(func() { k.Dispatch(ev) })
		}()
	}
}

// Post hands ev to the kiosk from any goroutine while Run runs (card
// events, maintenance mode from the fleet).
func (k *Kiosk) Post(ev Event) { k.ui.Do(func() { k.Dispatch(ev) }) }

// Run shows the wizard on s until ctx ends or the screen closes: card
// events from cards, touches from the screen, and a clock tick four times
// a second while time passing matters (timedNow): between sessions the
// kiosk sleeps until a card or a touch comes, waking every few minutes
// only to see whether the division list is due.
func (k *Kiosk) Run(ctx context.Context, s display.Screen, cards <-chan Event) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	timed := make(chan bool, 1)
	k.ui.Do(func() {
		k.async, k.base = true, ctx
		k.timed, k.wasTimed = timed, false
		k.Start()
		k.clock()
	})
	go func() {
		var t *time.Ticker
		var tick <-chan time.Time
		// Between sessions, a tick now and then lets the machine ask
		// whether the division list changed (divisionsDue).
		slow := time.NewTicker(divisionsRetry)
		defer slow.Stop()
		defer func() {
			if t != nil {
				t.Stop()
			}
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case <-slow.C:
				if tick == nil {
					k.Post(Tick{})
				}
			case on := <-timed:
				switch {
				case on && t == nil:
					t = time.NewTicker(250 * time.Millisecond)
					tick = t.C
				case !on && t != nil:
					t.Stop()
					t, tick = nil, nil
				}
			case <-tick:
				k.Post(Tick{})
			case ev, ok := <-cards:
				if !ok {
					cards = nil
					continue
				}
				k.Post(ev)
			}
		}
	}()
	if err := k.ui.Run(ctx, s); err != nil {
		return fmt.Errorf("wizard: %w", err)
	}
	return nil
}
