module github.com/nhikiosk/nhikiosk

go 1.26.0

require (
	filippo.io/age v1.3.2
	github.com/go-gl/glfw/v3.3/glfw v0.0.0-20260823155953-d41da22a9587
	github.com/google/go-cmp v0.7.0
	golang.org/x/image v0.48.0
	golang.org/x/sys v0.50.0
	rsc.io/qr v0.2.0
)

require (
	filippo.io/hpke v0.4.0 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)
