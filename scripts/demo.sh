#!/usr/bin/env bash
# Runs the kiosk demo on embedded defaults: a window, a virtual NHI card and
# the in-process upstream. Where there is no display (over SSH, in a
# container) the kiosk's screen is a web page instead, whose address it
# prints; the kiosk is then built without cgo and needs only the font. On
# Debian/Ubuntu it installs the system packages the demo needs (as root, or
# through sudo); elsewhere it prints exactly what is missing. Extra
# arguments go to the kiosk, e.g. -set language=en.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh

list=.ci/packages/demo.txt
what="(a C compiler, pkg-config, the PC/SC lite headers, the X11/OpenGL headers for GLFW, and Noto Sans CJK TC)"
if [ "$(uname -s)" = Linux ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [[ "$*" != *display.backend* ]]; then
	say "no display here (DISPLAY and WAYLAND_DISPLAY are unset): the kiosk's screen will be a web page"
	list=.ci/packages/demo-web.txt
	what="(Noto Sans CJK TC)"
	export CGO_ENABLED=0
fi
mapfile -t want < <(packages "$list")
if command -v dpkg-query >/dev/null; then
	missing=()
	for p in "${want[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		sudo=""
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		say "installing: ${missing[*]}"
		$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
	fi
else
	say "not a Debian/Ubuntu system: make sure you have the equivalents of:"
	printf '  %s\n' "${want[@]}" >&2
	say "$what"
fi
command -v go >/dev/null || { say "Go 1.26 or newer is needed: https://go.dev/dl/"; exit 1; }
go run ./cmd/kiosk -demo "$@"
