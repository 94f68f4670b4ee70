package upstream

// SetKillPoint installs f as the outbox's crash-point hook (tests only).
func SetKillPoint(o *Outbox, f func(string)) { o.point = f }

// Dir is the outbox's directory (tests only).
func (o *Outbox) Dir() string { return o.dir }
