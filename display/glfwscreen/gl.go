//go:build cgo && !noglfw

package glfwscreen

// The frame goes up as one texture drawn on one quad with legacy OpenGL
// (1.1 calls plus GL_UNPACK_ROW_LENGTH), which every Mesa driver has, so
// no OpenGL binding package is needed.

/*
#cgo LDFLAGS: -lGL
#include <GL/gl.h>

static GLuint nk_tex;

static void nk_init(int w, int h) {
	glGenTextures(1, &nk_tex);
	glBindTexture(GL_TEXTURE_2D, nk_tex);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, w, h, 0, GL_RGBA, GL_UNSIGNED_BYTE, 0);
	glDisable(GL_DEPTH_TEST);
	glDisable(GL_BLEND);
	glEnable(GL_TEXTURE_2D);
}

static void nk_upload(const void *pix, int rowPixels, int x, int y, int w, int h) {
	glBindTexture(GL_TEXTURE_2D, nk_tex);
	glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
	glPixelStorei(GL_UNPACK_ROW_LENGTH, rowPixels);
	glTexSubImage2D(GL_TEXTURE_2D, 0, x, y, w, h, GL_RGBA, GL_UNSIGNED_BYTE, pix);
	glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
}

static void nk_draw(int vw, int vh) {
	glViewport(0, 0, vw, vh);
	glMatrixMode(GL_PROJECTION);
	glLoadIdentity();
	glMatrixMode(GL_MODELVIEW);
	glLoadIdentity();
	glBindTexture(GL_TEXTURE_2D, nk_tex);
	glBegin(GL_QUADS);
	glTexCoord2f(0, 1); glVertex2f(-1, -1);
	glTexCoord2f(1, 1); glVertex2f(1, -1);
	glTexCoord2f(1, 0); glVertex2f(1, 1);
	glTexCoord2f(0, 0); glVertex2f(-1, 1);
	glEnd();
}

static int nk_error(void) { return (int)glGetError(); }
*/
import "C"

import (
	"fmt"
	"image"
	"unsafe"
)

func glInit(w, h int) error {
	C.nk_init(C.int(w), C.int(h))
	if e := C.nk_error(); e != 0 {
		return fmt.Errorf("create texture %dx%d: OpenGL error 0x%x", w, h, int(e))
	}
	return nil
}

// glUpload copies r of frame into the texture.
func glUpload(frame *image.RGBA, r image.Rectangle) {
	r = r.Intersect(frame.Rect)
	if r.Empty() {
		return
	}
	p := unsafe.Pointer(&frame.Pix[frame.PixOffset(r.Min.X, r.Min.Y)])
	C.nk_upload(p, C.int(frame.Stride/4), C.int(r.Min.X), C.int(r.Min.Y), C.int(r.Dx()), C.int(r.Dy()))
}

func glDraw(vw, vh int) error {
	C.nk_draw(C.int(vw), C.int(vh))
	if e := C.nk_error(); e != 0 {
		return fmt.Errorf("draw frame: OpenGL error 0x%x", int(e))
	}
	return nil
}
