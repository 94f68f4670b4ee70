//go:build !linux

package readertest

import "net"

// quickAck exists only on Linux (TCP_QUICKACK); elsewhere vpcd's split
// writes cost a delayed ACK per message.
func quickAck(net.Conn) {}
