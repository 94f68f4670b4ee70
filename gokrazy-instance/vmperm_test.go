package instance

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/nhikiosk/nhikiosk/config"
)

// kioskPerm is what the image's /perm holds: the kiosk's configuration
// (nhikiosk/config.json, kept as a JSON tree a test adjusts with set) and
// any other file, by its path under /perm. newKioskPerm starts it,
// vmImage.format writes it.
type kioskPerm struct {
	config map[string]any
	files  map[string][]byte
}

// newKioskPerm is /perm for a kiosk of the lab that reads cards from
// its usb-ccid reader, draws on the framebuffer with the image's font and
// talks to sim at upstreamURL (as the guest reaches it) with the client
// certificate, CA and age recipient sim made for it.
func newKioskPerm(t *testing.T, sim *hostSim, upstreamURL string) *kioskPerm {
	t.Helper()
	p := &kioskPerm{files: map[string][]byte{}, config: map[string]any{
		"site": "qemu-lab", "kiosk_id": sim.KioskID,
		"upstream": map[string]any{"url": upstreamURL, "client_cert_file": "kiosk.pem",
			"client_key_file": "kiosk-key.pem", "ca_file": "ca.pem", "age_recipient": sim.Recipient},
		"reader":  map[string]any{"backend": "ccid"},
		"display": map[string]any{"backend": "fbdev", "font_file": imageFont},
	}}
	p.file("nhikiosk/kiosk.pem", readFile(t, sim.Kiosk.CertFile))
	p.file("nhikiosk/kiosk-key.pem", readFile(t, sim.Kiosk.KeyFile))
	p.file("nhikiosk/ca.pem", readFile(t, sim.CA.PEMFile))
	return p
}

// set sets the configuration value at a dotted path, creating the
// objects on the way: set("session.idle_timeout", "10m").
func (p *kioskPerm) set(path string, v any) {
	m := p.config
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

// file puts b at name (a path under /perm).
func (p *kioskPerm) file(name string, b []byte) { p.files[name] = b }

// breakglassKey lets key in through breakglass (startBreakglass).
func (p *kioskPerm) breakglassKey(key ssh.PublicKey) {
	p.file("breakglass.authorized_keys", ssh.MarshalAuthorizedKey(key))
}

// format creates the image's /perm the way gok says, holding p, and
// returns the kiosk's configuration directory (/perm/nhikiosk) on the
// host. The configuration must load.
func (img *vmImage) format(t *testing.T, p *kioskPerm) string {
	t.Helper()
	perm := filepath.Join(img.dir, "perm")
	if err := os.RemoveAll(perm); err != nil {
		t.Fatal(err)
	}
	cfgDir := filepath.Join(perm, "nhikiosk")
	cfg, err := json.MarshalIndent(p.config, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"nhikiosk/config.json": cfg}
	for name, b := range p.files {
		files[name] = b
	}
	for name, b := range files {
		path := filepath.Join(perm, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, b)
	}
	if _, err := config.Load(cfgDir); err != nil {
		t.Fatalf("the VM's configuration is invalid: %v\n%s", err, cfg)
	}
	out, err := exec.Command(img.tools.mkfs, "-q", "-F", "-E", "offset="+img.mkfsOffset, "-d", perm,
		img.path, img.mkfsBlocks).CombinedOutput()
	if err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	return cfgDir
}
