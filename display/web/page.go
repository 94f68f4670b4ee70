package web

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
)

// The page's script and style are inline, and the Content-Security-Policy
// allows exactly them (by hash) and the socket back to this server:
// nothing external can load, and nothing injected can run.
var (
	//go:embed page.html
	pageHTML string
	//go:embed page.js
	pageJS string
	//go:embed page.css
	pageCSS string

	pageTemplate = template.Must(template.New("page").Parse(pageHTML))
	pageCSP      = "default-src 'none'; script-src " + hash(pageJS) + "; style-src " + hash(pageCSS) +
		"; connect-src 'self'; img-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}

// renderPage renders the one page s serves.
func renderPage(s *Screen) ([]byte, error) {
	var b bytes.Buffer
	err := pageTemplate.Execute(&b, struct {
		Title    string
		W, H     int
		Boot     string
		Exposed  bool
		Controls []Control
		Script   template.JS
		Style    template.CSS
	}{s.o.Title, s.o.Size.X, s.o.Size.Y, s.boot, s.exposed, s.o.Controls, template.JS(pageJS), template.CSS(pageCSS)})
	if err != nil {
		return nil, fmt.Errorf("web: render page: %w", err)
	}
	return b.Bytes(), nil
}
