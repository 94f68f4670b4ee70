package clock

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Kernel is the kernel's real-time clock (CLOCK_REALTIME). Setting it
// needs CAP_SYS_TIME: the kiosk has it as root on gokrazy.
func Kernel() System { return kernel{} }

type kernel struct{}

func (kernel) Now() time.Time { return time.Now() }

func (kernel) Set(t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	if err := unix.ClockSettime(unix.CLOCK_REALTIME, &ts); err != nil {
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("clock_settime: %w (needs CAP_SYS_TIME)", err)
		}
		return fmt.Errorf("clock_settime: %w", err)
	}
	return nil
}
