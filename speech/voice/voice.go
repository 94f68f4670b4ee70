// Package voice is the kiosk's recorded speech: Ogg Opus clips of every
// catalog message and value piece in zh-TW and English, and the manifest
// of the text hash each was made from. cmd/speechgen writes it; nothing
// else may (cmd/speechgen's test fails when a clip is missing or stale).
package voice

import "embed"

// FS holds manifest.json and clips/<lang>/<id>.opus ("all:": the value
// pieces' names start with "_").
//
//go:embed manifest.json all:clips
var FS embed.FS
