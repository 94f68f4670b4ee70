package pcsc

import (
	"fmt"
	"testing"

	"github.com/nhikiosk/nhikiosk/reader"
)

func kinds(evs []reader.Event) string {
	s := ""
	for _, e := range evs {
		s += fmt.Sprintf("[%v %s mute=%v]", e.Kind, e.Reader, e.Mute)
	}
	return s
}

func TestCardEvents(t *testing.T) {
	const (
		empty   = stateEmpty
		present = statePresent | stateChanged
		muted   = statePresent | stateMute
	)
	for name, tc := range map[string]struct {
		old, now uint32
		want     string
	}{
		"first look, empty": {old: 0, now: empty | stateChanged, want: ""},
		"first look, card":  {old: 0, now: present | 3<<16, want: "[card inserted r mute=false]"},
		"inserted":          {old: empty | 4<<16, now: present | 5<<16, want: "[card inserted r mute=false]"},
		"removed":           {old: present | 5<<16, now: empty | 6<<16, want: "[card removed r mute=false]"},
		"mute card":         {old: empty | 1<<16, now: muted | 2<<16, want: "[card inserted r mute=true]"},
		"in use, no change": {old: present | 5<<16, now: present | 0x100 | 5<<16, want: ""},
		"swapped between looks": {
			old: present | 5<<16, now: present | 7<<16, want: "[card removed r mute=false][card inserted r mute=false]"},
		// Only the low 16 bits are state: a counter whose bits look like
		// PRESENT must not invent a card.
		"counter bits are not flags": {old: empty | 0x20<<16, now: empty | 0x21<<16, want: ""},
		"counter overflow looks":     {old: empty | 0xFFFF<<16, now: present | 0, want: "[card inserted r mute=false]"},
		// pcscd sometimes reports counter 0 for a card that stayed in.
		"counter 0 glitch":     {old: present | 0x6B<<16, now: present, want: ""},
		"back from the glitch": {old: present, now: present | 0x6B<<16, want: ""},
	} {
		t.Run(name, func(t *testing.T) {
			if got := kinds(cardEvents("r", tc.old, tc.now, []byte{0x3B})); got != tc.want {
				t.Errorf("cardEvents(%#x, %#x) = %s, want %s", tc.old, tc.now, got, tc.want)
			}
		})
	}
}

func TestReaderEvents(t *testing.T) {
	withCard := func(r string) bool { return r == "b" }
	got := kinds(readerEvents([]string{"a", "b"}, []string{"a", "c"}, withCard))
	want := "[card removed b mute=false][reader detached b mute=false][reader attached c mute=false]"
	if got != want {
		t.Errorf("readerEvents = %s, want %s", got, want)
	}
	if got := kinds(readerEvents([]string{"a"}, []string{"a"}, withCard)); got != "" {
		t.Errorf("readerEvents with no change = %s, want none", got)
	}
}

func TestFilter(t *testing.T) {
	all := []string{"A", pnpReader, "B"}
	if got, want := fmt.Sprint(Options{}.filter(all)), "[A B]"; got != want {
		t.Errorf("filter all = %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(Options{Reader: "B"}.filter(all)), "[B]"; got != want {
		t.Errorf("filter B = %s, want %s", got, want)
	}
	if got := (Options{Reader: "Z"}).filter(all); len(got) != 0 {
		t.Errorf("filter Z = %v, want none", got)
	}
}

func TestViewUpdate(t *testing.T) {
	v := &view{opts: Options{}}
	steps := []struct {
		name string
		snap snapshot
		want string
	}{
		{"start: one reader with a card, one empty",
			snapshot{readers: []string{"a", "b"}, states: map[string]uint32{"a": statePresent | 1<<16, "b": stateEmpty | 1<<16}},
			"[reader attached a mute=false][reader attached b mute=false][card inserted a mute=false]"},
		{"nothing changed", snapshot{readers: []string{"a", "b"}, states: map[string]uint32{"a": statePresent | 1<<16, "b": stateEmpty | 1<<16}}, ""},
		{"a's reader leaving reports nothing yet",
			snapshot{readers: []string{"a", "b"}, states: map[string]uint32{"a": stateUnknown | stateUnavailable, "b": stateEmpty | 1<<16}}, ""},
		{"a gone, c came with a mute card",
			snapshot{readers: []string{"b", "c"}, states: map[string]uint32{"b": stateEmpty | 1<<16, "c": statePresent | stateMute | 1<<16}},
			"[card removed a mute=false][reader detached a mute=false][reader attached c mute=false][card inserted c mute=true]"},
	}
	for _, s := range steps {
		if got := kinds(v.update(s.snap)); got != s.want {
			t.Errorf("%s: update = %s, want %s", s.name, got, s.want)
		}
	}
	only := &view{opts: Options{Reader: "c"}}
	if got, want := kinds(only.update(steps[3].snap)), "[reader attached c mute=false][card inserted c mute=true]"; got != want {
		t.Errorf("filtered view = %s, want %s", got, want)
	}
}
