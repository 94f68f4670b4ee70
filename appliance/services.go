package appliance

import "context"

// tapService handles the services that need no login: e-mail
// verification, resending the confirmation, password reset and deleting
// an application.
func (m *Machine) tapService(tap string) []Job {
	s := m.sess
	switch tap {
	case IDBack:
		if m.screen == ScreenReset {
			m.goTo(ScreenForgot)
			return nil
		}
		m.toMenu()
		return nil
	case IDSubmit:
	default:
		return nil
	}
	if !m.checkScreen() {
		return nil
	}
	id, u := m.identity(), m.opt.Upstream
	switch m.screen {
	case ScreenVerify:
		code := s.p.value(FieldCode)
		return m.serviceJob("busy.verify", ScreenVerify, "result.verified",
			func(ctx context.Context) error { return u.Verify(ctx, id, code) })
	case ScreenResend:
		return m.serviceJob("busy.resend", ScreenResend, "result.resent",
			func(ctx context.Context) error { return u.Resend(ctx, id) })
	case ScreenForgot:
		return m.serviceJob("busy.forgot", ScreenForgot, "",
			func(ctx context.Context) error { return u.RequestReset(ctx, id) })
	case ScreenReset:
		code, pw := s.p.value(FieldCode), s.p.value(FieldPassword)
		return m.serviceJob("busy.reset", ScreenReset, "result.reset",
			func(ctx context.Context) error { return u.ResetPassword(ctx, id, code, pw) })
	case ScreenDelete:
		pw := s.p.value(FieldPassword)
		return m.serviceJob("busy.delete", ScreenDelete, "result.deleted",
			func(ctx context.Context) error { return u.Cancel(ctx, id, pw) })
	}
	return nil
}

// serviceDone shows a service's success. A reset code request leads on to
// the screen where the code and the new password are typed; every other
// service is complete, so the data is wiped.
func (m *Machine) serviceDone(from ScreenID, resultKey string) {
	s := m.sess
	m.opt.Log.Info("service done", "session", s.id, "step", string(from), "flow", string(s.flow))
	if from == ScreenForgot {
		m.goTo(ScreenReset)
		return
	}
	s.resultKey = resultKey
	s.complete()
	m.goTo(ScreenResult)
}
