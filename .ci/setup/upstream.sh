# Mailpit, the real SMTP catcher the upstream's end-to-end tests read e-mail
# from (github.com/axllent/mailpit, pure Go; about two minutes to build on
# two cores). Installed into /usr/local/bin. Sourced by .ci/run as root.
if ! command -v mailpit >/dev/null; then
	say "go install github.com/axllent/mailpit@v1.33.1"
	GOBIN=/usr/local/bin GOFLAGS=-buildvcs=false go install github.com/axllent/mailpit@v1.33.1
fi
