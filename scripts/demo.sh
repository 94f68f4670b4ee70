#!/usr/bin/env bash
# Runs the kiosk demo on embedded defaults: a window, a virtual NHI card and
# the in-process upstream. Where there is no display (over SSH, in a
# container) the kiosk's screen is a web page instead, whose address it
# prints; the kiosk is then built without cgo and needs only the font
# (.ci/packages/demo-web.txt). On Debian/Ubuntu it installs the system
# packages the demo needs (.ci/packages/demo.txt, as root or through sudo);
# elsewhere, or with NHIKIOSK_NO_INSTALL=1, it prints exactly what is
# missing. Extra arguments go to the kiosk, e.g. -set language=en.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh

if [ "$(uname -s)" = Linux ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [[ "$*" != *display.backend* ]]; then
	say "no display here (DISPLAY and WAYLAND_DISPLAY are unset): the kiosk's screen will be a web page"
	install_packages .ci/packages/demo-web.txt
	export CGO_ENABLED=0
else
	install_packages .ci/packages/demo.txt
fi
command -v go >/dev/null || { say "Go 1.26 or newer is needed: https://go.dev/dl/"; exit 1; }
[ "${CGO_ENABLED:-}" = 0 ] || use_cgo_tags
go run ./cmd/kiosk -demo "$@"
