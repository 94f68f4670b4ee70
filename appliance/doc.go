// Package appliance owns the kiosk's brain: the session state machine of the
// self-service wizard, the services it offers (each a flow of its own:
// registration, e-mail verification, the account services, …), the rules it
// checks as the person types, the lifecycle of the person's data, and the
// screens that show it all.
//
// Machine keeps what every session shares (the card, the timers, the wipe,
// maintenance and tamper, the language, the screens every flow ends on) and
// hands the rest to the session's current flow (flow.go), which reaches the
// session only through a wizard (wizard.go). The menus list the flows in
// flows.go; no flow names another.
//
// It reaches the card reader, the upstream, the outbox and the screen only
// through the small interfaces in ports.go, so it never imports a driver;
// cmd/kiosk builds the real devices. The person's data lives in one session
// for one visit: card removal, idle timeout and completion wipe it, byte
// slices it owns are zeroed, and it never reaches a log: logs carry the
// session id, the step and error kinds only.
package appliance
