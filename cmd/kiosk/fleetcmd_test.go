package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/reader"
)

func TestRestartStopsStart(t *testing.T) {
	kf, _, _, restarts := testFleet(t)
	if err := (fleetHandler{kf}).Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(restarts()) != 1 || !errors.Is(restarts()[0], errRestartRequested) {
		t.Fatalf("restarts = %v", restarts())
	}
}

func TestRebootOnlyOnGokrazy(t *testing.T) {
	kf, _, _, _ := testFleet(t)
	h := fleetHandler{kf}
	if err := h.Reboot(t.Context()); !errors.Is(err, fleet.ErrUnsupported) {
		t.Fatalf("Reboot off gokrazy = %v, want ErrUnsupported", err)
	}
	rebooted := false
	kf.onGokrazy = func() bool { return true }
	kf.reboot = func() error { rebooted = true; return nil }
	if err := h.Reboot(t.Context()); err != nil || !rebooted {
		t.Fatalf("Reboot on gokrazy = %v, rebooted %v", err, rebooted)
	}
	if onGokrazy() {
		t.Fatal("this test machine claims to be gokrazy")
	}
}

func TestReloadConfig(t *testing.T) {
	kf, _, _, restarts := testFleet(t)
	h := fleetHandler{kf}
	if err := h.ReloadConfig(t.Context()); !errors.Is(err, fleet.ErrUnsupported) {
		t.Fatalf("ReloadConfig in -demo = %v, want ErrUnsupported", err)
	}
	dir := t.TempDir()
	kf.o = options{configDir: dir}
	os.WriteFile(filepath.Join(dir, config.FileName), []byte(`{"site": 7}`), 0o600)
	if err := h.ReloadConfig(t.Context()); !errors.Is(err, fleet.ErrInvalidConfig) {
		t.Fatalf("ReloadConfig of a bad file = %v, want ErrInvalidConfig", err)
	}
	if kf.health().Errors[fleet.ErrKindConfig] != 1 {
		t.Fatal("config error not counted")
	}
	good := config.Demo()
	good.DataDir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, config.FileName), good.JSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig(kf.o); err != nil {
		t.Skipf("the demo configuration is not a valid config.json (%v); the valid case needs one", err)
	}
	if err := h.ReloadConfig(t.Context()); err != nil {
		t.Fatalf("ReloadConfig of a good file = %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(restarts()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if len(restarts()) != 1 {
		t.Fatal("no restart after a good reload")
	}
}

func TestSelfTest(t *testing.T) {
	kf, _, _, _ := testFleet(t)
	h := fleetHandler{kf}
	st, err := h.SelfTest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Reader.Kind != "no_reader" || st.Display.Kind != "no_frame" || !st.Upstream.OK || !st.Disk.OK {
		t.Fatalf("self-test with no reader or frame = %+v", st)
	}
	kf.observeReader(reader.Event{Kind: reader.ReaderAttached, Reader: "R"})
	frame := image.NewRGBA(image.Rect(0, 0, 80, 48))
	kf.screen.Present(frame, []image.Rectangle{frame.Rect})
	if st, _ = h.SelfTest(t.Context()); !st.OK() {
		t.Fatalf("self-test of a good kiosk = %+v", st)
	}
	kf.probe = fakeProbe{err: errors.New("down")}
	kf.cfg.DataDir = filepath.Join(t.TempDir(), "file")
	os.WriteFile(kf.cfg.DataDir, nil, 0o600) // a file where the data dir should be
	if st, _ = h.SelfTest(t.Context()); st.Upstream.Kind != "unreachable" || st.Disk.Kind != "not_writable" {
		t.Fatalf("self-test, upstream down and disk unusable = %+v", st)
	}
	ack := fleet.Ack{V: fleet.SchemaVersion, TS: time.Now(), ID: "c1", Name: fleet.CmdSelfTest, Status: fleet.AckOK, SelfTest: &st}
	if err := ack.Validate(); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ack)
	checkPrivate(t, b)
}

func TestScreenshot(t *testing.T) {
	kf, k, _, _ := testFleet(t)
	h := fleetHandler{kf}
	if _, err := h.Screenshot(t.Context()); err == nil {
		t.Fatal("screenshot before any frame: no error")
	}
	frame := image.NewRGBA(image.Rect(0, 0, 80, 48))
	frame.Set(3, 4, color.RGBA{200, 10, 10, 255})
	kf.screen.Present(frame, []image.Rectangle{frame.Rect})
	k.status.InSession = true
	if _, err := h.Screenshot(t.Context()); !errors.Is(err, fleet.ErrSessionActive) {
		t.Fatalf("screenshot in a session = %v, want ErrSessionActive", err)
	}
	k.status.InSession = false
	b, err := h.Screenshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != frame.Rect || !sameColor(img.At(3, 4), frame.At(3, 4)) {
		t.Fatalf("screenshot %v, pixel %v; want %v, %v", img.Bounds(), img.At(3, 4), frame.Rect, frame.At(3, 4))
	}
}

// TestEncodeShotShrinks: a frame too big for the cap is halved until it
// fits.
func TestEncodeShotShrinks(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7919 >> 3) // noise PNG cannot shrink
	}
	full, err := encodeShot(img, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	small, err := encodeShot(img, len(full)/2)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(small))
	if err != nil || cfg.Width >= 256 || len(small) > len(full)/2 {
		t.Fatalf("shrunk to %dx%d, %d bytes (cap %d), %v", cfg.Width, cfg.Height, len(small), len(full)/2, err)
	}
	if _, err := encodeShot(img, 10); !errors.Is(err, fleet.ErrUnsupported) {
		t.Fatalf("encodeShot into 10 bytes = %v", err)
	}
}

func sameColor(a, b color.Color) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}
