# Mosquitto on loopback with a configuration of ours (never the system one);
# the ports are the first free ones from these (free_port):
# - 127.0.0.1:18830 plain, anonymous (NHIKIOSK_MQTT_ADDR), for quick tests;
# - 127.0.0.1:18831 TLS with the Dynamic Security plugin (NHIKIOSK_MQTT_TLS_ADDR),
#   as docs/mqtt.md documents a production broker: fleetd enrolls each
#   kiosk there (its own password, its client id bound to it, a role that
#   allows only its own topics) and revokes it at once; packet size and
#   QoS bounded. Its CA, the dynsec file and the password of the operator
#   "fleetd" (dynsec admin, readwrite nhikiosk/v1/#) are generated at start
#   into NHIKIOSK_MQTT_DIR: ca.pem, dynsec.json, users/fleetd.pass.
#
# MQTT_PLAIN_PORT and MQTT_TLS_PORT, set before sourcing, make other ports
# the first choice (trying a changed version beside a shared instance).

# mosquitto_dynsec_hash PASSWORD SALT_BASE64: the base64 PBKDF2-SHA512 (101
# iterations) hash the plugin stores.
mosquitto_dynsec_hash() {
	local hexsalt
	hexsalt=$(printf '%s' "$2" | base64 -d | od -An -tx1 | tr -d ' \n')
	openssl kdf -binary -keylen 64 -kdfopt digest:SHA512 -kdfopt "pass:$1" -kdfopt "hexsalt:$hexsalt" \
		-kdfopt iter:101 PBKDF2 | base64 -w0
}

# mosquitto_fleet_files DIR: CA, server certificate, the fleetd password
# and the dynsec configuration with fleetd as its administrator.
mosquitto_fleet_files() {
	local d=$1 pw salt
	mkdir -p "$d/users"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=nhikiosk test CA" -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=127.0.0.1" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/san.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/san.ext" -out "$d/server.pem" 2>/dev/null
	pw=$(openssl rand -hex 24)
	printf '%s\n' "$pw" >"$d/users/fleetd.pass"
	salt=$(openssl rand -base64 12)
	cat >"$d/dynsec.json" <<JSON
{
	"clients": [{
		"username": "fleetd",
		"textName": "fleetd: enrolls and revokes kiosks, sends commands",
		"password": "$(mosquitto_dynsec_hash "$pw" "$salt")",
		"salt": "$salt",
		"iterations": 101,
		"roles": [{"rolename": "fleetd"}]
	}],
	"roles": [{
		"rolename": "fleetd",
		"acls": [
			{"acltype": "publishClientSend", "topic": "\$CONTROL/dynamic-security/#", "allow": true},
			{"acltype": "publishClientReceive", "topic": "\$CONTROL/dynamic-security/#", "allow": true},
			{"acltype": "subscribePattern", "topic": "\$CONTROL/dynamic-security/#", "allow": true},
			{"acltype": "publishClientSend", "topic": "nhikiosk/v1/#", "allow": true},
			{"acltype": "publishClientReceive", "topic": "nhikiosk/v1/#", "allow": true},
			{"acltype": "subscribePattern", "topic": "nhikiosk/v1/#", "allow": true},
			{"acltype": "unsubscribePattern", "topic": "#", "allow": true}
		]
	}],
	"defaultACLAccess": {"publishClientSend": false, "publishClientReceive": true, "subscribe": false, "unsubscribe": true}
}
JSON
	chmod 600 "$d/dynsec.json"
}

# mosquitto_conf DIR PLAINPORT TLSPORT: a mosquitto.conf for both listeners.
# The limits are docs/mqtt.md's: a kiosk's largest packet is a screenshot
# ack (fleet.MaxPacket); QoS 2 is not used; a kiosk's queue is bounded.
mosquitto_conf() {
	local d=$1
	cat >"$d/mosquitto.conf" <<CONF
per_listener_settings true
persistence false
user root
log_dest file $d/mosquitto.log
max_packet_size 1069056
max_inflight_messages 20
max_queued_messages 1000
max_queued_bytes 16777216
max_keepalive 300
listener $2 127.0.0.1
allow_anonymous true
listener $3 127.0.0.1
allow_anonymous false
max_qos 1
cafile $d/ca.pem
certfile $d/server.pem
keyfile $d/server.key
plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so
plugin_opt_config_file $d/dynsec.json
CONF
}

if [ -x /usr/sbin/mosquitto ] && command -v openssl >/dev/null &&
	[ -e /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so ]; then
	mqtt_plain=$(free_port "${MQTT_PLAIN_PORT:-18830}")
	mqtt_tls=$(free_port "${MQTT_TLS_PORT:-18831}" $((mqtt_plain + 1)))
	mosquitto_fleet_files "$NHIKIOSK_RUN/mosquitto"
	mosquitto_conf "$NHIKIOSK_RUN/mosquitto" "$mqtt_plain" "$mqtt_tls"
	say "starting mosquitto on 127.0.0.1:$mqtt_plain (plain) and :$mqtt_tls (TLS, dynamic security)"
	/usr/sbin/mosquitto -c "$NHIKIOSK_RUN/mosquitto/mosquitto.conf" &
	on_exit "kill $! 2>/dev/null"
	if wait_port 127.0.0.1 "$mqtt_plain" 20 && wait_port 127.0.0.1 "$mqtt_tls" 20; then
		export NHIKIOSK_MQTT_ADDR=127.0.0.1:$mqtt_plain
		export NHIKIOSK_MQTT_TLS_ADDR=127.0.0.1:$mqtt_tls
		export NHIKIOSK_MQTT_DIR=$NHIKIOSK_RUN/mosquitto
	fi
else
	say "mosquitto (with its dynamic security plugin) or openssl missing: fleet integration tests will skip"
fi
