package broker

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/mochi-mqtt/server/v2/packets"
)

// packetSummary is the slog handler mochi logs through: a packet in a log
// line becomes its type, topic and payload size, never its payload (a
// refused 2 MB publish once made a 6 MB log line, issue 14), and a
// client's password never reaches the log.
type packetSummary struct{ h slog.Handler }

func (p packetSummary) Enabled(ctx context.Context, l slog.Level) bool { return p.h.Enabled(ctx, l) }

func (p packetSummary) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(summarize(a))
		return true
	})
	return p.h.Handle(ctx, out)
}

func (p packetSummary) WithAttrs(as []slog.Attr) slog.Handler {
	s := make([]slog.Attr, len(as))
	for i, a := range as {
		s[i] = summarize(a)
	}
	return packetSummary{p.h.WithAttrs(s)}
}

func (p packetSummary) WithGroup(name string) slog.Handler { return packetSummary{p.h.WithGroup(name)} }

func summarize(a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindAny {
		return a
	}
	switch v := a.Value.Any().(type) {
	case packets.Packet:
		a.Value = slog.StringValue(packetString(&v))
	case *packets.Packet:
		a.Value = slog.StringValue(packetString(v))
	}
	return a
}

func packetString(pk *packets.Packet) string {
	if pk == nil {
		return "<nil>"
	}
	topic := pk.TopicName
	if len(topic) > 128 {
		topic = topic[:128] + "…"
	}
	return fmt.Sprintf("type=%s topic=%q qos=%d retain=%v id=%d payload=%d bytes",
		packets.PacketNames[pk.FixedHeader.Type], topic, pk.FixedHeader.Qos, pk.FixedHeader.Retain, pk.PacketID, len(pk.Payload))
}
