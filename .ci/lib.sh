# Shared by .ci/run, scripts/test.sh and .ci/services/*.sh. Sourced, not run.

# on_exit CMD: run CMD when the sourcing shell exits (last registered first).
NHIKIOSK_CLEANUP=()
on_exit() { NHIKIOSK_CLEANUP=("$1" "${NHIKIOSK_CLEANUP[@]}"); }
run_cleanup() {
	local c
	for c in "${NHIKIOSK_CLEANUP[@]}"; do eval "$c" || true; done
}
trap run_cleanup EXIT

# say MSG: a progress line on stderr.
say() { printf '==> %s\n' "$*" >&2; }

# wait_port HOST PORT [SECONDS]: wait until a TCP port accepts connections.
wait_port() {
	local host=$1 port=$2 secs=${3:-20} i
	for ((i = 0; i < secs * 10; i++)); do
		if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	say "timed out waiting for $host:$port"
	return 1
}

# port_free PORT: whether nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port PORT...: the first of the PORTs nobody listens on, else a free
# port above them, so a second run beside a first one (another developer's
# test.sh, a CI run on a workstation) gets its own services.
free_port() {
	local p
	for p in "$@"; do
		if port_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	for ((p = $1 + 100; p < $1 + 2000; p++)); do
		if port_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# packages: every Debian package listed under .ci/packages (or the files named).
packages() {
	local files=("$@")
	[ ${#files[@]} -gt 0 ] || files=(.ci/packages/*.txt)
	sed -e 's/#.*//' "${files[@]}" | tr -s ' \t' '\n' | sed '/^$/d' | sort -u
}

# install_packages [--must] FILE...: install the Debian packages listed in
# FILEs (one per line, # comments) that are not installed yet, as root or
# through sudo. Shared by scripts/demo.sh, scripts/test.sh and .ci/run.
# Without --must nothing is fatal: where it cannot install (not Debian or
# Ubuntu, no root and no sudo, apt fails, or NHIKIOSK_NO_INSTALL=1) it
# prints what is missing and returns 0, and what needs it skips or is
# built without it. With --must (CI) a failure ends the run.
install_packages() {
	local must=0
	if [ "${1:-}" = --must ]; then must=1; shift; fi
	local want missing=() p sudo=""
	mapfile -t want < <(packages "$@")
	if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
		say "not a Debian/Ubuntu system: make sure you have the equivalents of:"
		printf '  %s\n' "${want[@]}" >&2
		[ $must -eq 0 ] || return 1
		return 0
	fi
	for p in "${want[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	if [ -n "${NHIKIOSK_NO_INSTALL:-}" ] && [ $must -eq 0 ]; then
		say "NHIKIOSK_NO_INSTALL is set; missing Debian packages: ${missing[*]}"
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null; then
			sudo=sudo
		else
			say "not root and no sudo; install these Debian packages yourself: ${missing[*]}"
			[ $must -eq 0 ] || return 1
			return 0
		fi
	fi
	say "installing Debian packages: ${missing[*]}"
	local log
	log=$(mktemp /tmp/nhikiosk-apt.XXXXXX)
	if $sudo apt-get update -qq >"$log" 2>&1 &&
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>"$log" 2>&1; then
		rm -f "$log"
		return 0
	fi
	tail -30 "$log" >&2
	say "could not install: ${missing[*]} (apt's log: $log)"
	[ $must -eq 0 ] || return 1
	say "going on without them: what needs them is left out or skips"
	return 0
}

# run_setup: the .ci/setup/*.sh steps (tools that are not Debian packages,
# such as Mailpit), each skipped when its tool is already there.
run_setup() {
	local s
	for s in .ci/setup/*.sh; do
		[ -e "$s" ] || continue
		. "$s"
	done
}

# cgo_tags: the build tags that leave out the cgo parts whose C headers
# this host lacks (nopcsc: libpcsclite-dev; noglfw: the X11/OpenGL
# headers), comma-separated, so everything else still builds and the tests
# that need them say why they skip.
cgo_tags() {
	local tags=()
	if ! command -v pkg-config >/dev/null || ! pkg-config --exists libpcsclite; then
		tags+=(nopcsc)
	fi
	if ! command -v pkg-config >/dev/null || ! pkg-config --exists x11 xcursor xrandr xinerama xi xxf86vm gl; then
		tags+=(noglfw)
	fi
	(
		IFS=,
		echo "${tags[*]}"
	)
}

# use_cgo_tags: export GOFLAGS with cgo_tags, so go and every go command the
# tests run build the same way; say what is left out.
use_cgo_tags() {
	local tags
	tags=$(cgo_tags)
	[ -n "$tags" ] || return 0
	say "building with -tags=$tags: the C headers are missing (scripts/test.sh installs them on Debian/Ubuntu)"
	export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=$tags"
}

# NHIKIOSK_RUN: a private directory for this run's service state.
NHIKIOSK_RUN=$(mktemp -d /tmp/nhikiosk-run.XXXXXX)
on_exit "rm -rf '$NHIKIOSK_RUN'"
export NHIKIOSK_RUN
