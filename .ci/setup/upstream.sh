# Mailpit, the real SMTP catcher the upstream's end-to-end tests read e-mail
# from (github.com/axllent/mailpit, pure Go; about two minutes to build on
# two cores). Installed into /usr/local/bin when that is writable (root, as
# in CI), else into Go's own bin directory, where .ci/services/smtp.sh
# looks too.
if ! command -v mailpit >/dev/null && [ ! -x "$(go env GOPATH)/bin/mailpit" ]; then
	mailpit_bin=/usr/local/bin
	[ -w "$mailpit_bin" ] || mailpit_bin=$(go env GOPATH)/bin
	say "go install github.com/axllent/mailpit@v1.33.1 into $mailpit_bin"
	GOBIN=$mailpit_bin GOFLAGS=-buildvcs=false go install github.com/axllent/mailpit@v1.33.1 ||
		say "could not build Mailpit: the upstream's end-to-end tests will skip"
fi
