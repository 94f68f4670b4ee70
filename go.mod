module github.com/nhikiosk/nhikiosk

go 1.26

require (
	filippo.io/age v1.3.2
	golang.org/x/sys v0.47.0
	periph.io/x/conn/v3 v3.7.3
	periph.io/x/host/v3 v3.8.5
)

require (
	filippo.io/hpke v0.4.0 // indirect
	github.com/jonboulle/clockwork v0.5.0 // indirect
	golang.org/x/crypto v0.55.0 // indirect
)
