package speech

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	"github.com/pion/opus"
	"github.com/pion/opus/pkg/oggreader"
)

// Manifest says which clips exist and what each was made from.
type Manifest struct {
	// Settings name the synthesizers, voices and encoder; part of every
	// hash, so changing them makes every clip stale.
	Settings string `json:"settings"`
	// Clips by language, then id.
	Clips map[string]map[string]ClipInfo `json:"clips"`
}

// ClipInfo is one clip's record.
type ClipInfo struct {
	Hash string `json:"hash"`
	Ms   int    `json:"ms"`
}

// ErrNoClip is a clip the manifest lists but the library lacks.
var ErrNoClip = errors.New("speech: a clip is missing from the library")

// ManifestFile and ClipDir are where a library's files are in its FS.
const (
	ManifestFile = "manifest.json"
	ClipDir      = "clips"
)

// ClipPath is where clip c's Ogg Opus file is.
func ClipPath(c Clip) string { return path.Join(ClipDir, c.Lang, c.ID+".opus") }

// Library is the recorded clips: a manifest and Ogg Opus files in an FS
// (the embedded speech/voice, or a test's).
type Library struct {
	fsys fs.FS
	m    Manifest
}

// OpenLibrary reads the manifest of fsys.
func OpenLibrary(fsys fs.FS) (*Library, error) {
	data, err := fs.ReadFile(fsys, ManifestFile)
	if err != nil {
		return nil, fmt.Errorf("speech library: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("speech library: %s: %w", ManifestFile, err)
	}
	return &Library{fsys: fsys, m: m}, nil
}

// Manifest returns the library's manifest.
func (l *Library) Manifest() Manifest { return l.m }

// Has reports whether clip c was recorded.
func (l *Library) Has(c Clip) bool {
	_, ok := l.m.Clips[c.Lang][c.ID]
	return ok
}

// Duration returns clip c's length in milliseconds (0 if it is missing).
func (l *Library) Duration(c Clip) int { return l.m.Clips[c.Lang][c.ID].Ms }

// Stream decodes clip c to mono samples at rate (8, 12, 16, 24 or 48 kHz),
// calling emit with each 20 ms or so as it is decoded, until emit returns
// false. The encoder's pre-skip is dropped.
func (l *Library) Stream(c Clip, rate int, emit func([]int16) bool) error {
	data, err := fs.ReadFile(l.fsys, ClipPath(c))
	if err != nil {
		// Not wrapped: its path names the clip, and a piece's a
		// character of a value.
		return ErrNoClip
	}
	return decode(data, rate, emit)
}

// decode decodes an Ogg Opus file (RFC 7845).
func decode(data []byte, rate int, emit func([]int16) bool) error {
	r, head, err := oggreader.NewWith(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("speech: ogg: %w", err)
	}
	if head.Channels != 1 {
		return fmt.Errorf("speech: %d channels, want mono", head.Channels)
	}
	dec, err := opus.NewDecoderWithOutput(rate, 1)
	if err != nil {
		return fmt.Errorf("speech: opus decoder: %w", err)
	}
	skip := int(head.PreSkip) * rate / 48000
	buf := make([]int16, rate*120/1000) // the longest Opus packet, 120 ms
	for {
		pkt, _, err := r.ParseNextPacket()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("speech: ogg: %w", err)
		}
		if bytes.HasPrefix(pkt, []byte("OpusTags")) || bytes.HasPrefix(pkt, []byte("OpusHead")) {
			continue
		}
		n, err := dec.DecodeToInt16(pkt, buf)
		if err != nil {
			return fmt.Errorf("speech: opus: %w", err)
		}
		s := buf[:n]
		if skip > 0 {
			k := min(skip, len(s))
			s, skip = s[k:], skip-k
		}
		if len(s) > 0 && !emit(s) {
			return nil
		}
	}
}
