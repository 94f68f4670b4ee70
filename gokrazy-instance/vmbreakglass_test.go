package instance

import (
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// staffKey is a throwaway SSH key for breakglass (kioskPerm.breakglassKey).
func staffKey(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startBreakglass starts breakglass the way docs/appliance.md says:
// gokrazy's status page (web, forwarded to the host) hands out an XSRF
// cookie, and a POST to /restart with it starts the service.
func startBreakglass(t *testing.T, web string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	do := func(req *http.Request) {
		t.Helper()
		req.SetBasicAuth("gokrazy", vmPassword)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("gokrazy %s: %v", req.URL.Path, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK { // /restart redirects to /status
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("gokrazy %s: %s: %s", req.URL.Path, resp.Status, b)
		}
	}
	base := "http://" + web
	req, _ := http.NewRequest(http.MethodGet, base+"/status?path=/user/breakglass", nil)
	do(req)
	u, _ := url.Parse(base)
	token := ""
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "gokrazy_xsrf" {
			token = ck.Value
		}
	}
	if token == "" {
		t.Fatal("gokrazy's status page set no gokrazy_xsrf cookie")
	}
	form := url.Values{"path": {"/user/breakglass"}, "xsrftoken": {token}}
	req, _ = http.NewRequest(http.MethodPost, base+"/restart", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	do(req)
}

// sshIn logs in to breakglass at addr (the guest's port 22, forwarded)
// with key, retrying while it starts.
func sshIn(t *testing.T, addr string, key ssh.Signer) {
	t.Helper()
	cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(key)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 20 * time.Second}
	var err error
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		var c *ssh.Client
		if c, err = ssh.Dial("tcp", addr, cfg); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("breakglass did not let the key from /perm in: %v", err)
}
