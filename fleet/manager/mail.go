package manager

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"strings"
	"time"
)

// MailOptions say how fleetd sends notification e-mails: an SMTP server
// (a relay, or Mailpit in tests). STARTTLS is used when the server offers
// it; a user name needs TLS (or a server on loopback).
type MailOptions struct {
	Addr         string // host:port; empty: no e-mail
	From         string
	Username     string
	PasswordFile string
	// Timeout bounds one message (default 15 s).
	Timeout time.Duration
}

var errNoMail = errors.New("no SMTP server configured (-smtp)")

func (m *Manager) sendNotificationMail(ctx context.Context, d delivery) error {
	mo := m.opts.Mail
	if mo.Addr == "" {
		return errNoMail
	}
	subject, body := m.composeMail(d)
	return sendMail(ctx, mo, d.Rule.Email, subject, body)
}

// composeMail writes a notification in Traditional Chinese, then English,
// with times in the console's time zone and in UTC.
func (m *Manager) composeMail(d delivery) (string, string) {
	zh, en := catalogs["zh-TW"], catalogs["en"]
	site, _, _ := strings.Cut(d.Alert.Kiosk, "/")
	name := m.SiteName(site)
	who := map[string]string{"zh-TW": zh.t("the fleet"), "en": en.t("the fleet")}
	if d.Alert.Kiosk != "" {
		who["zh-TW"], who["en"] = d.Alert.Kiosk, d.Alert.Kiosk
		if name != "" {
			who["zh-TW"] = name + " " + d.Alert.Kiosk
			who["en"] = d.Alert.Kiosk + " (" + name + ")"
		}
	}
	event := map[string]string{NotifyNew: "New alert", NotifyEscalated: "Alert still open", NotifyResolved: "Alert resolved"}[d.Event]
	kind := string(d.Alert.Kind)
	subject := fmt.Sprintf("[nhikiosk] %s：%s %s / %s: %s, %s", zh.t(event), zh.kind(kind), who["zh-TW"], event, en.kind(kind), who["en"])
	loc := m.opts.Location
	var b strings.Builder
	for _, lang := range []string{"zh-TW", "en"} {
		c := catalogs[lang]
		fmt.Fprintf(&b, "%s: %s\n", c.t(event), c.kind(kind))
		fmt.Fprintf(&b, "%s: %s\n", c.t("Kiosk"), who[lang])
		fmt.Fprintf(&b, "%s: %s (%s)\n", c.t("Since"), d.Alert.Since.In(loc).Format("2006-01-02 15:04:05"), c.zoneName(loc))
		if d.Event == NotifyResolved {
			fmt.Fprintf(&b, "%s: %s (%s)\n", c.t("Resolved"), d.At.In(loc).Format("2006-01-02 15:04:05"), c.zoneName(loc))
		}
		fmt.Fprintf(&b, "%s: %s\n", c.t("Rule"), d.Rule.Name)
		if u := m.consoleURL(d.Alert.Kiosk); u != "" {
			fmt.Fprintf(&b, "%s: %s\n", c.t("Console"), u)
		}
		b.WriteString("\n")
	}
	return subject, b.String()
}

// sendMail delivers one message to every address in to.
func sendMail(ctx context.Context, mo MailOptions, to []string, subject, body string) error {
	timeout := mo.Timeout
	if timeout <= 0 {
		timeout = sendTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", mo.Addr)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	defer conn.Close()
	dl, _ := ctx.Deadline()
	conn.SetDeadline(dl)
	host, _, _ := net.SplitHostPort(mo.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("smtp greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello("fleetd"); err != nil {
		return fmt.Errorf("smtp hello: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("smtp starttls: %w", err)
		}
	}
	if mo.Username != "" {
		pw, err := readSecret(mo.PasswordFile)
		if err != nil {
			return err
		}
		if err := c.Auth(smtp.PlainAuth("", mo.Username, pw, host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.Mail(mo.From); err != nil {
		return fmt.Errorf("smtp mail from: %w", err)
	}
	for _, a := range to {
		if err := c.Rcpt(a); err != nil {
			return fmt.Errorf("smtp rcpt: %w", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if _, err := w.Write(message(mo.From, to, subject, body)); err != nil {
		return fmt.Errorf("smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp end of data: %w", err)
	}
	return c.Quit()
}

// message renders an RFC 5322 message with a base64 UTF-8 body.
func message(from string, to []string, subject, body string) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	rand.Read(id)
	_, domain, _ := strings.Cut(from, "@")
	if domain == "" {
		domain = "fleetd.invalid"
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\n", from, strings.Join(to, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.BEncoding.Encode("UTF-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\nMessage-ID: <%s@%s>\r\n", time.Now().Format(time.RFC1123Z), hex.EncodeToString(id), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(body))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes()
}
