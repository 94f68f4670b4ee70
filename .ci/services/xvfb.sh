# Xvfb for the GLFW backend's integration test. A display of our own, so a
# developer's desktop is never touched.
if command -v Xvfb >/dev/null; then
	xvfb_n=97
	while [ -e /tmp/.X11-unix/X$xvfb_n ] || [ -e /tmp/.X$xvfb_n-lock ]; do xvfb_n=$((xvfb_n + 1)); done
	NHIKIOSK_XVFB_DISPLAY=:$xvfb_n
	say "starting Xvfb on $NHIKIOSK_XVFB_DISPLAY"
	Xvfb "$NHIKIOSK_XVFB_DISPLAY" -screen 0 1920x1200x24 -nolisten tcp -noreset >"$NHIKIOSK_RUN/xvfb.log" 2>&1 &
	on_exit "kill $! 2>/dev/null"
	for _ in $(seq 100); do [ -e /tmp/.X11-unix/X$xvfb_n ] && break; sleep 0.1; done
	export NHIKIOSK_XVFB_DISPLAY
else
	say "Xvfb missing: GLFW integration tests will skip"
fi
