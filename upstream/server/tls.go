package server

import (
	"crypto/tls"
	"fmt"

	"github.com/nhikiosk/nhikiosk/upstream"
)

// TLSConfig is the server side of mutual TLS: the server's certificate,
// and every client must present a certificate that chains to the CA in
// clientCAFile and is within its validity period (an expired kiosk
// certificate is refused in the handshake).
func TLSConfig(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load server certificate: %w", err)
	}
	pool, err := upstream.LoadPool(clientCAFile)
	if err != nil {
		return nil, fmt.Errorf("client CA: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
	}, nil
}
