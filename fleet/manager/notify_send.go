package manager

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Delivery of notifications: one goroutine sends them in order, each with
// a timeout; a failed one is tried again after a while, up to
// deliveryTries times. Both outcomes are audited.

const (
	channelEmail   = "email"
	channelWebhook = "webhook"
	deliveryTries  = 4
	sendTimeout    = 15 * time.Second
)

// retryAfter is the wait before the n-th try (from 2).
var retryAfter = []time.Duration{0, 0, 10 * time.Second, time.Minute, 5 * time.Minute}

// Webhook headers: the request's time (Unix seconds) and the signature
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
const (
	HeaderTimestamp = "X-Nhikiosk-Timestamp"
	HeaderSignature = "X-Nhikiosk-Signature"
)

type delivery struct {
	Rule    Rule
	Channel string
	Event   string
	Alert   Alert
	At      time.Time
	Tries   int
}

// WebhookPayload is the JSON a webhook receives.
type WebhookPayload struct {
	V        int    `json:"v"`
	Event    string `json:"event"` // new, escalated, resolved
	Rule     string `json:"rule"`
	RuleID   string `json:"rule_id"`
	At       string `json:"at"` // RFC 3339
	Kiosk    string `json:"kiosk,omitempty"`
	Site     string `json:"site,omitempty"`
	SiteName string `json:"site_name,omitempty"`
	Kind     string `json:"kind"`
	Since    string `json:"since"`
	Acked    bool   `json:"acked"`
	URL      string `json:"url,omitempty"`
}

// SignWebhook is the signature header value of body sent at ts.
func SignWebhook(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", ts)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook checks a received webhook's signature and that it was
// sent within maxAge of now (receivers use it; so do the tests).
func VerifyWebhook(secret, tsHeader, sigHeader string, body []byte, now time.Time, maxAge time.Duration) error {
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return errors.New("webhook: no timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > maxAge || d < -maxAge {
		return errors.New("webhook: timestamp too far from now")
	}
	if !hmac.Equal([]byte(SignWebhook(secret, ts, body)), []byte(sigHeader)) {
		return errors.New("webhook: bad signature")
	}
	return nil
}

// deliverLoop sends queued notifications until ctx ends.
func (m *Manager) deliverLoop(ctx context.Context) {
	client := &http.Client{Timeout: sendTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	for {
		var d delivery
		select {
		case <-ctx.Done():
			return
		case d = <-m.ops.notify.queue:
		}
		d.Tries++
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		var err error
		switch d.Channel {
		case channelEmail:
			err = m.sendNotificationMail(sctx, d)
		case channelWebhook:
			err = m.sendWebhook(sctx, client, d)
		}
		cancel()
		m.auditDelivery(d, err)
		if err != nil && d.Tries < deliveryTries && ctx.Err() == nil {
			go func(d delivery) {
				select {
				case <-time.After(retryAfter[d.Tries+1]):
					m.enqueueDelivery(d)
				case <-ctx.Done():
				}
			}(d)
		}
	}
}

// auditDelivery records one notification sent, or one try that failed;
// it names the rule, channel, event and alert, never the addresses.
func (m *Manager) auditDelivery(d delivery, err error) {
	detail := fmt.Sprintf("%s: %s %s %s", d.Rule.Name, d.Channel, d.Event, d.Alert.Kind)
	if d.Channel == channelEmail {
		detail += fmt.Sprintf(" (%d recipients)", len(d.Rule.Email))
	}
	action := "notify"
	if err != nil {
		m.ops.notify.failed.Add(1)
		action = "notify_failed"
		detail += fmt.Sprintf(" (try %d of %d: %v)", d.Tries, deliveryTries, errKind(err))
		m.log.Warn("fleetd notification not sent", "rule", d.Rule.ID, "channel", d.Channel, "event", d.Event,
			"kind", string(d.Alert.Kind), "kiosk", d.Alert.Kiosk, "try", d.Tries, "err", err)
	} else {
		m.ops.notify.sent.Add(1)
		m.log.Info("fleetd notification sent", "rule", d.Rule.ID, "channel", d.Channel, "event", d.Event,
			"kind", string(d.Alert.Kind), "kiosk", d.Alert.Kiosk)
	}
	if werr := m.store.Write(m.auditOp(m.opts.Now().UTC(), "fleetd", action, d.Alert.Kiosk, detail)); werr != nil {
		m.log.Error("fleetd audit notification", "err", werr)
	}
}

// errKind is a short description of a delivery error without addresses.
func errKind(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, errNoMail):
		return errNoMail.Error()
	}
	var se statusError
	if errors.As(err, &se) {
		return se.Error()
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

type statusError int

func (s statusError) Error() string { return "answered HTTP " + strconv.Itoa(int(s)) }

// consoleURL is the console's page of a kiosk ("" without -public-url).
func (m *Manager) consoleURL(kiosk string) string {
	if m.opts.PublicURL == "" {
		return ""
	}
	base := strings.TrimRight(m.opts.PublicURL, "/")
	if kiosk == "" {
		return base + "/alerts"
	}
	return base + "/kiosks/" + kiosk
}

func (m *Manager) sendWebhook(ctx context.Context, client *http.Client, d delivery) error {
	site, _, _ := strings.Cut(d.Alert.Kiosk, "/")
	p := WebhookPayload{V: 1, Event: d.Event, Rule: d.Rule.Name, RuleID: d.Rule.ID, At: d.At.Format(time.RFC3339),
		Kiosk: d.Alert.Kiosk, Site: site, SiteName: m.SiteName(site), Kind: string(d.Alert.Kind),
		Since: d.Alert.Since.UTC().Format(time.RFC3339), Acked: d.Alert.Acked, URL: m.consoleURL(d.Alert.Kiosk)}
	body, _ := json.Marshal(p)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Rule.Webhook, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts := m.opts.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "nhikiosk-fleetd")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, SignWebhook(d.Rule.Secret, ts, body))
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(resp.StatusCode)
	}
	return nil
}
