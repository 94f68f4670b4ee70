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
