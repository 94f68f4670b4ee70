//go:build !cgo || nopcsc

package pcsc

import (
	"context"
	"errors"

	"github.com/nhikiosk/nhikiosk/reader"
)

// ErrNoCgo is returned by New in a build that cannot reach pcscd: without
// cgo (CGO_ENABLED=0, as on gokrazy: use reader/ccid there), or with the
// nopcsc tag on a host that lacks the PC/SC lite headers.
var ErrNoCgo = errors.New("PC/SC needs a build with cgo and libpcsclite (Debian libpcsclite-dev), without the nopcsc tag")

// Built reports whether this build can reach pcscd.
const Built = false

// Device is PC/SC's reader.Device; without cgo there is none.
type Device struct{}

// New fails with ErrNoCgo: this build has no PC/SC.
func New(Options) (*Device, error) { return nil, ErrNoCgo }

// Events implements reader.Device.
func (*Device) Events() <-chan reader.Event { return nil }

// Run implements reader.Device.
func (*Device) Run(context.Context) error { return ErrNoCgo }

// Read implements reader.Device.
func (*Device) Read(context.Context) (reader.Profile, error) { return reader.Profile{}, ErrNoCgo }

// Readers fails with ErrNoCgo: this build has no PC/SC.
func Readers() ([]string, error) { return nil, ErrNoCgo }

// Authenticate implements reader.Device.
func (*Device) Authenticate(context.Context, reader.Exchange) error { return ErrNoCgo }
