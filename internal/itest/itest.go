// Package itest gates integration tests on the real components that
// .ci/run (through scripts/test.sh) starts: pcscd with vpcd, Mosquitto, an
// SMTP catcher, Xvfb, Chromium, QEMU.
//
// A test asks for its component; where it is missing the test is skipped
// with a message naming it, so `go test ./...` works on any machine. Under
// NHIKIOSK_REQUIRE_INTEGRATION=1, which .ci/run sets, a missing component
// fails the test instead, so CI cannot pass by skipping.
package itest

import (
	"os"
	"os/exec"
	"testing"
)

// RequireVar is the environment variable that turns skips into failures.
const RequireVar = "NHIKIOSK_REQUIRE_INTEGRATION"

// Required reports whether missing components fail tests (in CI).
func Required() bool { return os.Getenv(RequireVar) == "1" }

// Env returns the value of the environment variable name, which
// scripts/test.sh sets once component is up (e.g. NHIKIOSK_MQTT_ADDR for
// "Mosquitto"). If it is unset the test is skipped, or failed in CI.
func Env(t testing.TB, name, component string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		missing(t, component+" is not running ($"+name+" is unset; scripts/test.sh starts it)")
	}
	return v
}

// Command returns the path of program, or skips (fails in CI) naming the
// Debian package that provides it.
func Command(t testing.TB, program, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		missing(t, program+" is not installed (Debian package "+debianPackage+")")
	}
	return p
}

// Optional is like Command for tools that CI does not install either, such
// as gok for the appliance tier: the test is skipped even in CI.
func Optional(t testing.TB, program, why string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		t.Skipf("%s is not on PATH: %s", program, why)
	}
	return p
}

// Missing skips the test (fails it in CI) because of why, e.g. a part of
// the build left out on a host that lacks its C headers.
func Missing(t testing.TB, why string) {
	t.Helper()
	missing(t, why)
}

func missing(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("integration component missing in CI: %s", why)
	}
	t.Skipf("skipped: %s", why)
}

// File returns path if it exists, or skips (fails in CI) naming the Debian
// package that provides it (e.g. the CJK font from fonts-noto-cjk).
func File(t testing.TB, path, debianPackage string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(t, path+" is missing (Debian package "+debianPackage+")")
	}
	return path
}
