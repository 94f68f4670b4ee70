#!/usr/bin/env bash
# Runs the kiosk demo on embedded defaults: a window, a virtual NHI card and
# the in-process upstream. On Debian/Ubuntu it installs the system packages
# the demo needs (.ci/packages/demo.txt, as root or through sudo); elsewhere,
# or with NHIKIOSK_NO_INSTALL=1, it prints exactly what is missing. Extra
# arguments go to the kiosk, e.g. -set language=en.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
install_packages .ci/packages/demo.txt
command -v go >/dev/null || { say "Go 1.26 or newer is needed: https://go.dev/dl/"; exit 1; }
use_cgo_tags
go run ./cmd/kiosk -demo "$@"
