# pcscd with vsmartcard's vpcd readers: "Virtual PCD 00 00" takes its
# virtual card on TCP 35963, "Virtual PCD 00 01" on 35964 (reader/readertest
# plugs cards in; tests lock one reader each, see readertest.LockVPCD).
# Only one pcscd can run per machine: an already running one is used as is.
if [ -x /usr/sbin/pcscd ] && [ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ]; then
	if ! pgrep -x pcscd >/dev/null; then
		say "starting pcscd with vpcd"
		/usr/sbin/pcscd --foreground >"$NHIKIOSK_RUN/pcscd.log" 2>&1 &
		on_exit "kill $! 2>/dev/null"
	fi
	if wait_port 127.0.0.1 35963 20 && wait_port 127.0.0.1 35964 20; then
		export NHIKIOSK_VPCD_ADDR=127.0.0.1:35963
	fi
else
	say "pcscd or vsmartcard-vpcd missing: reader integration tests will skip"
fi
