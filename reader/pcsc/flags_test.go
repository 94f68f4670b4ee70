//go:build cgo && !nopcsc

package pcsc

import (
	"testing"

	"github.com/ebfe/scard"
)

// The pure-Go copies of pcsclite.h's state bits must match libpcsclite's.
func TestStateBitsMatchPCSCLite(t *testing.T) {
	for name, tc := range map[string]struct{ ours, theirs uint32 }{
		"changed":     {stateChanged, uint32(scard.StateChanged)},
		"unknown":     {stateUnknown, uint32(scard.StateUnknown)},
		"unavailable": {stateUnavailable, uint32(scard.StateUnavailable)},
		"empty":       {stateEmpty, uint32(scard.StateEmpty)},
		"present":     {statePresent, uint32(scard.StatePresent)},
		"mute":        {stateMute, uint32(scard.StateMute)},
	} {
		if tc.ours != tc.theirs {
			t.Errorf("%s = %#x, libpcsclite says %#x", name, tc.ours, tc.theirs)
		}
	}
}
