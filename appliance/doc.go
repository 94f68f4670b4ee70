// Package appliance owns the kiosk's brain: the session state machine of the
// self-service wizard (attract, menu, registration and the account services
// that need no login), the rules it checks as the person types, the
// lifecycle of the person's data, and the screens that show it all.
//
// It reaches the card reader, the upstream, the outbox and the screen only
// through the small interfaces in ports.go, so it never imports a driver;
// cmd/kiosk builds the real devices. The person's data lives in one session
// for one visit: card removal, idle timeout and completion wipe it, byte
// slices it owns are zeroed, and it never reaches a log: logs carry the
// session id, the step and error kinds only.
package appliance
