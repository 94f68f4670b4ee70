package alsa

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nhikiosk/nhikiosk/sound"
)

// card is a sound card as sysfs shows it.
type card struct {
	n   int
	id  string // the ALSA id ("Headphones", "Device", "Intel")
	usb bool   // on a USB bus
}

// cards lists the sound cards with a playback PCM node under devRoot.
func cards(sysRoot, devRoot string) []card {
	dirs, _ := filepath.Glob(filepath.Join(sysRoot, "class", "sound", "card*"))
	var out []card
	for _, d := range dirs {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "card"))
		if err != nil {
			continue
		}
		if nodes, _ := filepath.Glob(filepath.Join(devRoot, "snd", fmt.Sprintf("pcmC%dD*p", n))); len(nodes) == 0 {
			continue
		}
		id, _ := os.ReadFile(filepath.Join(d, "id"))
		real, _ := filepath.EvalSymlinks(filepath.Join(d, "device"))
		out = append(out, card{n: n, id: strings.TrimSpace(string(id)), usb: strings.Contains(real, "/usb")})
	}
	slices.SortFunc(out, func(a, b card) int { return a.n - b.n })
	return out
}

// findCard returns the number and id of the card named by want (a number
// or an id), or for "" the headphone jack, a USB card, or the first card
// that is not HDMI.
func findCard(sysRoot, devRoot, want string) (int, string, error) {
	cs := cards(sysRoot, devRoot)
	pick := func(ok func(card) bool) (int, string, bool) {
		for _, c := range cs {
			if ok(c) {
				return c.n, c.id, true
			}
		}
		return 0, "", false
	}
	var n int
	var id string
	var found bool
	if want != "" {
		n, id, found = pick(func(c card) bool { return strconv.Itoa(c.n) == want || strings.EqualFold(c.id, want) })
	} else {
		for _, ok := range []func(card) bool{
			func(c card) bool { return strings.EqualFold(c.id, "Headphones") },
			func(c card) bool { return c.usb },
			func(c card) bool { return !strings.Contains(strings.ToLower(c.id), "hdmi") },
		} {
			if n, id, found = pick(ok); found {
				break
			}
		}
	}
	if !found {
		names := make([]string, len(cs))
		for i, c := range cs {
			names[i] = fmt.Sprintf("%d:%s", c.n, c.id)
		}
		return 0, "", fmt.Errorf("%w: card %q not among %v", sound.ErrNoDevice, want, names)
	}
	return n, id, nil
}
