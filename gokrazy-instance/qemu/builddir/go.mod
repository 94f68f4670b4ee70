module gokrazy/build/qemu

go 1.26.0

require github.com/nhikiosk/nhikiosk v0.0.0-00010101000000-000000000000

require (
	github.com/creack/pty v1.1.18 // indirect
	github.com/gokrazy/breakglass v0.0.0-20251229072214-9dbc0478d486 // indirect
	github.com/gokrazy/gokapi v0.0.0-20250222071133-506fdb322775 // indirect
	github.com/gokrazy/gokrazy v0.0.0-20260418085648-c38c3134b8a7 // indirect
	github.com/gokrazy/internal v0.0.0-20251208203110-3c1aa9087c82 // indirect
	github.com/gokrazy/kernel.amd64 v0.0.0-20260705070735-de680abf072b // indirect
	github.com/gokrazy/serial-busybox v0.0.0-20250119153030-ac58ba7574e7 // indirect
	github.com/google/renameio/v2 v2.0.0 // indirect
	github.com/google/shlex v0.0.0-20191202100458-e7afc7fbc510 // indirect
	github.com/kenshaw/evdev v0.1.0 // indirect
	github.com/kr/fs v0.1.0 // indirect
	github.com/kr/pty v1.1.8 // indirect
	github.com/mdlayher/watchdog v0.0.0-20221003142519-49be0df7b3b5 // indirect
	github.com/pkg/sftp v1.13.5 // indirect
	github.com/spf13/pflag v1.0.5 // indirect
	github.com/vishvananda/netlink v1.1.0 // indirect
	github.com/vishvananda/netns v0.0.0-20211101163701-50045581ed74 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/oauth2 v0.27.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/nhikiosk/nhikiosk => ../../..
