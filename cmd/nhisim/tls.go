package main

import (
	"crypto/tls"
	"net"
)

func tlsListener(ln net.Listener, tc *tls.Config) net.Listener { return tls.NewListener(ln, tc) }
