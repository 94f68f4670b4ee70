# Mosquitto on loopback with a configuration of ours (never the system one).
if [ -x /usr/sbin/mosquitto ]; then
	mkdir -p "$NHIKIOSK_RUN/mosquitto"
	cat >"$NHIKIOSK_RUN/mosquitto/mosquitto.conf" <<CONF
per_listener_settings true
persistence false
user root
log_dest file $NHIKIOSK_RUN/mosquitto/mosquitto.log
listener 18830 127.0.0.1
allow_anonymous true
CONF
	say "starting mosquitto on 127.0.0.1:18830"
	/usr/sbin/mosquitto -c "$NHIKIOSK_RUN/mosquitto/mosquitto.conf" &
	on_exit "kill $! 2>/dev/null"
	wait_port 127.0.0.1 18830 20 && export NHIKIOSK_MQTT_ADDR=127.0.0.1:18830
else
	say "mosquitto missing: fleet integration tests will skip"
fi
