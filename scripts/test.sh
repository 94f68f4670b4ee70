#!/usr/bin/env bash
# Runs every test of the project. On Debian/Ubuntu it first installs what
# the tests need (the packages in .ci/packages/*.txt and the tools of
# .ci/setup/*.sh, such as Mailpit), as root or through sudo; elsewhere, or
# with NHIKIOSK_NO_INSTALL=1, it prints what is missing. Then it starts the
# real components the integration tests use (pcscd + vpcd, Mosquitto,
# Mailpit, Xvfb, …) on loopback where they are installed, runs
# `go test -race` over the whole module, and stops them again. A cgo part
# whose C headers are missing is left out of the build (cgo_tags), so the
# rest still builds; tests whose component is missing skip with a message
# naming it (in CI they fail instead). Extra arguments go to go test, e.g.
# scripts/test.sh -run TestConfig ./config/
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
if [ -z "${NHIKIOSK_INSTALLED:-}" ]; then
	install_packages .ci/packages/*.txt
	[ -n "${NHIKIOSK_NO_INSTALL:-}" ] || run_setup
fi
command -v go >/dev/null || { say "Go 1.26 or newer is needed: https://go.dev/dl/"; exit 1; }
use_cgo_tags
for s in .ci/services/*.sh; do
	. "$s"
done
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(./...)
say "go test -race -count=1 ${args[*]}"
go test -race -count=1 -timeout 30m "${args[@]}"
