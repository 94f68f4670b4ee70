# pcscd with vsmartcard's vpcd reader ("Virtual PCD 00 00" on TCP 35963).
# Only one pcscd can run per machine: an already running one is used as is.
if [ -x /usr/sbin/pcscd ] && [ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ]; then
	if ! pgrep -x pcscd >/dev/null; then
		say "starting pcscd with vpcd"
		/usr/sbin/pcscd --foreground >"$NHIKIOSK_RUN/pcscd.log" 2>&1 &
		on_exit "kill $! 2>/dev/null"
	fi
	if wait_port 127.0.0.1 35963 20; then
		export NHIKIOSK_VPCD_ADDR=127.0.0.1:35963
	fi
else
	say "pcscd or vsmartcard-vpcd missing: reader integration tests will skip"
fi
