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

# packages: every Debian package listed under .ci/packages (or the files named).
packages() {
	local files=("$@")
	[ ${#files[@]} -gt 0 ] || files=(.ci/packages/*.txt)
	sed -e 's/#.*//' "${files[@]}" | tr -s ' \t' '\n' | sed '/^$/d' | sort -u
}

# NHIKIOSK_RUN: a private directory for this run's service state.
NHIKIOSK_RUN=$(mktemp -d /tmp/nhikiosk-run.XXXXXX)
on_exit "rm -rf '$NHIKIOSK_RUN'"
export NHIKIOSK_RUN
