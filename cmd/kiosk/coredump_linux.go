package main

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// noCoreDumps keeps the kiosk's memory, which holds a person's data for
// the length of a session, out of core dumps and away from other
// processes of the same user: the core size limit goes to 0
// (setrlimit(2) RLIMIT_CORE) and the process stops being dumpable
// (prctl(2) PR_SET_DUMPABLE 0, which also refuses ptrace attachment and
// makes /proc/<pid>/mem root's only). Issue 13.
func noCoreDumps() error {
	var errs []error
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		errs = append(errs, fmt.Errorf("setrlimit RLIMIT_CORE: %w", err))
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		errs = append(errs, fmt.Errorf("prctl PR_SET_DUMPABLE: %w", err))
	}
	return errors.Join(errs...)
}
