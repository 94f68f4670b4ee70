package fleet

// Size limits of the schema (issue 14): what a broker accepts from a kiosk
// and what fleetd parses. A kiosk never needs more; anything larger is a
// hostile or broken client, refused and counted.
const (
	// MaxStatePayload bounds a /state payload (the birth included).
	MaxStatePayload = 2 << 10
	// MaxHealthPayload bounds a /health payload.
	MaxHealthPayload = 8 << 10
	// MaxEventPayload bounds an /event payload.
	MaxEventPayload = 2 << 10
	// MaxAckPayload bounds an /ack payload: a screenshot of MaxScreenshot
	// bytes in base64 and the ack's other fields.
	MaxAckPayload = MaxScreenshot*4/3 + 16<<10
	// MaxPacket bounds a whole MQTT packet to or from a kiosk (topic,
	// headers, payload); brokers refuse larger ones (mochi's and
	// Mosquitto's max_packet_size).
	MaxPacket = MaxAckPayload + 4<<10
)

// MaxPayload is the largest payload a kiosk may publish on channel ch
// (commands: MaxCommandSize); 0 for an unknown channel.
func MaxPayload(ch string) int {
	switch ch {
	case ChanState:
		return MaxStatePayload
	case ChanHealth:
		return MaxHealthPayload
	case ChanEvent:
		return MaxEventPayload
	case ChanAck:
		return MaxAckPayload
	case ChanCmd:
		return MaxCommandSize
	}
	return 0
}

// Retained reports whether messages on channel ch may be retained (state
// and health); a retained message anywhere else is refused, so what a
// broker keeps per kiosk is bounded by two payloads.
func Retained(ch string) bool { return ch == ChanState || ch == ChanHealth }
