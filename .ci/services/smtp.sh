# Mailpit on loopback: SMTP on 127.0.0.1:18025, its HTTP API on
# 127.0.0.1:18026 (or the next free ports), messages in memory. nhisim's end-to-end tests send their
# e-mails there and read them back through the API.
# Exports NHIKIOSK_SMTP_ADDR and NHIKIOSK_MAILPIT_API.
NHIKIOSK_MAILPIT=$(command -v mailpit || true)
[ -n "$NHIKIOSK_MAILPIT" ] || [ ! -x "$(go env GOPATH)/bin/mailpit" ] || NHIKIOSK_MAILPIT="$(go env GOPATH)/bin/mailpit"
if [ -n "$NHIKIOSK_MAILPIT" ]; then
	smtp_port=$(free_port 18025)
	mailpit_api=$(free_port 18026 $((smtp_port + 1)))
	say "starting mailpit: SMTP 127.0.0.1:$smtp_port, API 127.0.0.1:$mailpit_api"
	"$NHIKIOSK_MAILPIT" --smtp 127.0.0.1:$smtp_port --listen 127.0.0.1:$mailpit_api --max 5000 \
		--disable-version-check --smtp-disable-rdns >"$NHIKIOSK_RUN/mailpit.log" 2>&1 &
	on_exit "kill $! 2>/dev/null"
	if wait_port 127.0.0.1 "$smtp_port" 20 && wait_port 127.0.0.1 "$mailpit_api" 20; then
		export NHIKIOSK_SMTP_ADDR=127.0.0.1:$smtp_port
		export NHIKIOSK_MAILPIT_API=http://127.0.0.1:$mailpit_api
	else
		tail -20 "$NHIKIOSK_RUN/mailpit.log" >&2
	fi
else
	say "mailpit missing (.ci/setup/upstream.sh installs it): upstream end-to-end tests will skip"
fi
