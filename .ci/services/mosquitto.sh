# Mosquitto on loopback with a configuration of ours (never the system one);
# the ports are the first free ones from these (free_port):
# - 127.0.0.1:18830 plain, anonymous (NHIKIOSK_MQTT_ADDR), for quick tests;
# - 127.0.0.1:18831 TLS with per-kiosk passwords and an ACL file
#   (NHIKIOSK_MQTT_TLS_ADDR), as a production broker is set up
#   (docs/mqtt.md). Its CA, password and ACL files and one password file
#   per user are generated at start into NHIKIOSK_MQTT_DIR:
#   ca.pem, users/<user>.pass for the operator "fleetd" and the kiosks
#   "itest.k1" and "itest.k2".

# mosquitto_fleet_files DIR: CA, server certificate, users, passwords, ACL.
mosquitto_fleet_files() {
	local d=$1 u
	mkdir -p "$d/users"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=nhikiosk test CA" -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=127.0.0.1" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/san.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/san.ext" -out "$d/server.pem" 2>/dev/null
	: >"$d/passwd"
	for u in fleetd itest.k1 itest.k2; do
		openssl rand -hex 24 >"$d/users/$u.pass"
		mosquitto_passwd -b "$d/passwd" "$u" "$(cat "$d/users/$u.pass")"
	done
	{
		printf 'user fleetd\ntopic readwrite nhikiosk/v1/#\n\n'
		for u in itest.k1 itest.k2; do
			local site=${u%%.*} kiosk=${u#*.}
			printf 'user %s\n' "$u"
			for ch in state health event ack; do
				printf 'topic write nhikiosk/v1/%s/%s/%s\n' "$site" "$kiosk" "$ch"
			done
			printf 'topic read nhikiosk/v1/%s/%s/cmd\n\n' "$site" "$kiosk"
		done
	} >"$d/acl"
}

# mosquitto_conf DIR PLAINPORT TLSPORT: a mosquitto.conf for both listeners.
mosquitto_conf() {
	local d=$1
	cat >"$d/mosquitto.conf" <<CONF
per_listener_settings true
persistence false
user root
log_dest file $d/mosquitto.log
listener $2 127.0.0.1
allow_anonymous true
listener $3 127.0.0.1
allow_anonymous false
cafile $d/ca.pem
certfile $d/server.pem
keyfile $d/server.key
password_file $d/passwd
acl_file $d/acl
CONF
}

if [ -x /usr/sbin/mosquitto ] && command -v openssl >/dev/null && command -v mosquitto_passwd >/dev/null; then
	mqtt_plain=$(free_port 18830)
	mqtt_tls=$(free_port 18831 $((mqtt_plain + 1)))
	mosquitto_fleet_files "$NHIKIOSK_RUN/mosquitto"
	mosquitto_conf "$NHIKIOSK_RUN/mosquitto" "$mqtt_plain" "$mqtt_tls"
	say "starting mosquitto on 127.0.0.1:$mqtt_plain (plain) and :$mqtt_tls (TLS, ACL)"
	/usr/sbin/mosquitto -c "$NHIKIOSK_RUN/mosquitto/mosquitto.conf" &
	on_exit "kill $! 2>/dev/null"
	if wait_port 127.0.0.1 "$mqtt_plain" 20 && wait_port 127.0.0.1 "$mqtt_tls" 20; then
		export NHIKIOSK_MQTT_ADDR=127.0.0.1:$mqtt_plain
		export NHIKIOSK_MQTT_TLS_ADDR=127.0.0.1:$mqtt_tls
		export NHIKIOSK_MQTT_DIR=$NHIKIOSK_RUN/mosquitto
	fi
else
	say "mosquitto, mosquitto_passwd or openssl missing: fleet integration tests will skip"
fi
