#!/usr/bin/env bash
# Runs every test of the project: starts the real components the
# integration tests use (pcscd + vpcd, Mosquitto, Xvfb, …) on loopback where
# they are installed, runs `go test -race` over the whole module, and stops
# them again. Components that are missing make their tests skip with a
# message naming them (in CI they fail instead). Extra arguments go to
# go test, e.g. scripts/test.sh -run TestConfig ./config/
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
for s in .ci/services/*.sh; do
	. "$s"
done
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(./...)
say "go test -race -count=1 ${args[*]}"
go test -race -count=1 -timeout 30m "${args[@]}"
