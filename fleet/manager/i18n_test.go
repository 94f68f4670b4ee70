package manager

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// TestCatalogComplete: every string the templates translate, and every
// machine word the console shows (statuses, alert kinds, commands, job and
// configuration states, roles, audit actions), has its Traditional
// Chinese; and each translation keeps its format verbs.
func TestCatalogComplete(t *testing.T) {
	literal := regexp.MustCompile(`[{(]t "((?:[^"\\]|\\.)*)"|"navlink" \(list "[^"]*" "[^"]*" "([^"]*)"`)
	files, _ := filepath.Glob("templates/*.html")
	keys := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]+m[2]] = f
		}
	}
	words := func(ws ...string) {
		for _, w := range ws {
			keys[strings.ReplaceAll(w, "_", " ")] = "machine word"
		}
	}
	for _, s := range Statuses {
		words(string(s))
	}
	for _, k := range AlertKinds {
		if k != AlertBrokerDown && k != AlertConfigDrift {
			words(string(k))
		}
	}
	for _, c := range append(fleet.Commands, fleet.CmdApplyConfig) {
		words(string(c))
	}
	for _, s := range TargetStates {
		words(string(s))
	}
	words(ConfigStates...)
	words(Roles...)
	words("ok", "refused", "failed", "rejected", "session_active", "invalid_config", "unsupported", "unanswered", "send_failed")
	words("command", "alert_ack", "enroll", "revoke", "login", "user_add", "user_update", "user_disable", "user_enable",
		"user_reset", "password_change", "totp_enable", "totp_disable", "token_create", "token_revoke", "job_create",
		"job_cancel", "config_set", "config_remove", "site_name", "tag", "rule_add", "rule_update", "rule_delete",
		"notify", "notify_failed")
	for _, c := range charts(nil, time.Time{}, time.Time{}) {
		keys[c.Title] = "chart"
	}
	verbs := regexp.MustCompile(`%[dsv]`)
	for k, where := range keys {
		zh, ok := zhTW[k]
		if !ok {
			t.Errorf("%q (%s) has no Traditional Chinese", k, where)
			continue
		}
		if a, b := verbs.FindAllString(k, -1), verbs.FindAllString(zh, -1); strings.Join(a, "") != strings.Join(b, "") {
			t.Errorf("%q → %q: format verbs %v, want %v", k, zh, b, a)
		}
	}
}
