package upstream

// SetKillPoint installs f as the outbox's crash-point hook (tests only).
func SetKillPoint(o *Outbox, f func(string)) { o.point = f }

// Dir is the outbox's directory (tests only).
func (o *Outbox) Dir() string { return o.dir }

// SessionOn is s's token used through another client (another kiosk's
// certificate), to test that the upstream refuses it (tests only).
func SessionOn(c *Client, s *AccountSession) *AccountSession {
	return &AccountSession{c: c, token: s.tok(), ExpiresAt: s.ExpiresAt, expires: s.Expires()}
}
