package appliance

import (
	"context"
	"time"
)

// A logged-in person's account session (wizard.loggedIn) belongs to the
// card's session: whatever ends that (card removed, idle timeout, maximum
// duration, finishing, the case opening) logs it out at the upstream.

// logoutTimeout bounds the logout sent when a session ends.
const logoutTimeout = 5 * time.Second

// logoutJob ends the account session at the upstream; it runs after the
// kiosk's session is gone, so it does not use the session's context.
func logoutJob(as AccountSession, why string) Job {
	return func(ctx context.Context) Event {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
		defer cancel()
		err := as.Logout(ctx)
		return result{apply: func(m *Machine) []Job {
			m.opt.Log.Info("logged out", "reason", why, "err_kind", kindOrOK(err))
			return nil
		}}
	}
}

// logoutLater logs out a session whose answer came after the kiosk's
// session ended (the card was pulled during the login).
func logoutLater(as AccountSession) {
	if as == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), logoutTimeout)
		defer cancel()
		as.Logout(ctx)
	}()
}

func kindOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return errorKind(err)
}
