package main

import (
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/internal/itest"
)

func TestHeadlessWritesPNG(t *testing.T) {
	itest.File(t, config.DebianFont, "fonts-noto-cjk")
	out := filepath.Join(t.TempDir(), "choose.png")
	o := options{backend: "headless", lang: "en", theme: "high-contrast", page: "choose", png: out,
		font: config.DebianFont, fontIndex: config.DebianFontIndex, size: image.Pt(800, 480), dpi: 133}
	if err := show(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := img.Bounds().Size(), image.Pt(800, 480); got != want {
		t.Errorf("PNG size %v, want %v", got, want)
	}
	// High contrast: the page background is black.
	if r, g, b, _ := img.At(400, 470).RGBA(); r|g|b != 0 {
		t.Errorf("pixel at the bottom = %v,%v,%v, want black background", r, g, b)
	}
}

func TestMissingFontNamesThePackage(t *testing.T) {
	o := options{backend: "headless", font: "/nonexistent.ttc", size: image.Pt(10, 10), png: "x"}
	err := show(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "fonts-noto-cjk") {
		t.Errorf("show with a missing font = %v, want an error naming fonts-noto-cjk", err)
	}
}
