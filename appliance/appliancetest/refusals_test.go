package appliancetest

import (
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/divisions"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
)

// Each test here gets one of the upstream's 4xx answers through the real
// client and checks what the person sees and can do next.

func (k *Kiosk) wantText(t *testing.T, s string) {
	t.Helper()
	if !strings.Contains(k.Texts(), s) {
		t.Errorf("screen does not say %q:\n%s", s, k.Texts())
	}
}

func TestWrongCodeThenLocked(t *testing.T) {
	k := New(t, Options{Lang: appliance.LangEn})
	k.RegisterByAPI(false)
	k.Insert()
	k.Tap(appliance.IDVerify)
	for i := 0; i < upstream.MaxTries-1; i++ {
		k.Fill(appliance.FieldCode, "000000")
		k.Tap(appliance.IDSubmit)
		k.Want(appliance.ScreenVerify)
		k.wantText(t, "The code is wrong or has expired")
	}
	k.Fill(appliance.FieldCode, "000000")
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenError)
	k.wantText(t, "Too many attempts")
}

func TestExpiredCode(t *testing.T) {
	k := New(t, Options{})
	k.RegisterByAPI(false)
	code := k.Code(1)
	k.Later(upstream.CodeLifetime + time.Hour)
	k.Insert()
	k.Tap(appliance.IDVerify)
	k.Fill(appliance.FieldCode, code)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenVerify)
	k.wantText(t, "驗證碼錯誤或已過期")
}

func TestVerifyWhenActive(t *testing.T) {
	k := New(t, Options{Lang: appliance.LangEn})
	k.RegisterByAPI(true)
	k.Insert()
	k.Tap(appliance.IDVerify)
	k.Fill(appliance.FieldCode, "123456")
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenError)
	k.wantText(t, "already verified")
}

func TestForgotWhilePending(t *testing.T) {
	k := New(t, Options{})
	k.RegisterByAPI(false)
	k.Insert()
	k.Tap(appliance.IDForgot)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenError)
	k.wantText(t, "還沒完成電子信箱認證")
	k.Tap(appliance.IDVerify)
	k.Want(appliance.ScreenVerify)
}

func TestResendForNobody(t *testing.T) {
	k := New(t, Options{})
	k.Insert()
	k.Tap(appliance.IDResend)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenError)
	k.wantText(t, "還沒有註冊申請")
	k.Tap(appliance.IDRegister)
	k.Want(appliance.ScreenTerms)
}

// TestBootOfflineThenRefused starts the kiosk while the upstream is down,
// so it shows its built-in rules and division list; the upstream's
// division list lacks the village picked (422: choose again) and its rules
// have another version (409 terms_changed: read the new ones).
func TestBootOfflineThenRefused(t *testing.T) {
	only, err := server.ParseDivisions(strings.NewReader(divisions.HeaderLine+
		"09007,連江縣,Lienchiang County,09007010,南竿鄉,Nangan Township,09007010002,復興村,Fuxing Vil.\n"), "2030-01-01")
	if err != nil {
		t.Fatal(err)
	}
	k := New(t, Options{Down: true, Lang: appliance.LangEn, Divisions: only})
	k.Insert()
	k.Tap(appliance.IDRegister)
	k.wantText(t, "Version "+appliance.BuiltinTermsVersion)
	k.SetDown(false)
	for _, st := range RegisterSteps[1:] {
		k.Want(st.Screen)
		st.Do(k)
	}
	k.Want(appliance.ScreenAddress) // 422: no such village upstream
	k.wantText(t, "The NHI does not know this county, township and village")
	// The kiosk took the upstream's list at once: 介壽村 is gone from it,
	// its villages are open, 復興村 among them.
	k.Tap("village.09007010002")
	k.Tap(appliance.IDNext)
	k.Want(appliance.ScreenReview)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenTerms) // 409: the upstream's rules are newer
	k.wantText(t, "Version 2026-01")
	k.ReadTerms()
	k.Tap(appliance.IDAgree)
	k.Want(appliance.ScreenReview)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenReceipt)
	if code := k.Code(1); len(code) != 6 {
		t.Errorf("code %q", code)
	}
}
