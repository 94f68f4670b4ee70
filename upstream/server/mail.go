package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// Mail is one e-mail, ready to send.
type Mail struct {
	From, To, Subject string
	Body              string // UTF-8 plain text
	// MessageID is the Message-ID header (RFC 5322 §3.6.4), "<…@…>",
	// fixed when the e-mail was queued: a copy sent again after a crash
	// carries the same one.
	MessageID string
}

// Mailer delivers an e-mail. Send blocks until the message is accepted or
// ctx ends; it is called from one goroutine (Server.Run) at a time.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// SMTPMailer delivers over plain SMTP to a relay or catcher (Mailpit) with
// no authentication, as nhisim -smtp does.
type SMTPMailer struct {
	Addr    string        // host:port
	Timeout time.Duration // bound on one delivery; 0 means 30s
}

// Send delivers m.
func (s SMTPMailer) Send(ctx context.Context, m Mail) error {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp dial: %w", err)
	}
	defer conn.Close()
	dl, _ := ctx.Deadline()
	if err := conn.SetDeadline(dl); err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("smtp greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello("nhisim"); err != nil {
		return fmt.Errorf("smtp hello: %w", err)
	}
	if err := c.Mail(m.From); err != nil {
		return fmt.Errorf("smtp mail from: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("smtp rcpt: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if _, err := w.Write(m.bytes()); err != nil {
		return fmt.Errorf("smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp end of data: %w", err)
	}
	return c.Quit()
}

// bytes renders m as an RFC 5322 message with a base64 UTF-8 body.
func (m Mail) bytes() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\n", m.From, m.To)
	if m.MessageID != "" {
		fmt.Fprintf(&b, "Message-ID: %s\r\n", m.MessageID)
	}
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.BEncoding.Encode("UTF-8", m.Subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(m.Body))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes()
}

// link is the confirmation page for a reference.
func link(base, reference string) string {
	return strings.TrimRight(base, "/") + "/confirm?reference=" + url.QueryEscape(reference)
}

// compose writes the e-mail for a job, in Traditional Chinese then English.
func compose(j mailJob, from, base string) Mail {
	l := link(base, j.Reference)
	var subject, zh, en string
	switch j.Kind {
	case "reset":
		subject = "健保卡網路服務 忘記註冊密碼 / NHI card network service: password reset"
		zh = "您申請重設註冊密碼。請在服務機輸入以下驗證碼並設定新密碼。"
		en = "You asked to reset your registration password. Enter this code at the kiosk and choose a new password."
	case "email_change":
		subject = "健保卡網路服務 電子郵件變更確認 / NHI card network service: confirm your new e-mail"
		zh = "您申請將主要電子郵件變更為此信箱。請在服務機輸入以下驗證碼完成變更；完成前仍使用原信箱。"
		en = "You asked to make this your primary e-mail address. Enter this code at the kiosk to finish; until then the old address stays in use."
	default:
		subject = "健保卡網路服務 註冊確認信 / NHI card network service: confirm your registration"
		zh = "感謝您申請健保卡網路服務。請在服務機輸入以下驗證碼，或開啟連結完成認證。"
		en = "Thank you for registering for the NHI card network service. Enter this code at the kiosk, or open the link, to confirm."
		if j.Kind == "resend" {
			zh = "這是重寄的確認信，先前的驗證碼已失效。" + zh
			en = "This is a new confirmation e-mail; the earlier code no longer works. " + en
		}
	}
	body := fmt.Sprintf("%s\n\n驗證碼：%s\n申請編號：%s\n連結：%s\n\n%s\n\nCode: %s\nReference: %s\nLink: %s\n\n驗證碼 24 小時內有效 / The code is valid for 24 hours.\n",
		zh, j.Code, j.Reference, l, en, j.Code, j.Reference, l)
	return Mail{From: from, To: j.To, Subject: subject, Body: body, MessageID: j.MessageID}
}
