package appliancetest

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/divisions"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// TestRegisterAnywhere registers, end to end on the screen, a person in
// 新北市板橋區歡園里 (the last village of the longest list) and one in
// 臺東縣蘭嶼鄉紅頭村, in 中文 and in English: the address chosen from the
// lists as a person would, shown whole on the review and the receipt in
// the person's language, sent by its codes and accepted by nhisim (a
// reference, then the confirmation e-mail and its code).
func TestRegisterAnywhere(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    Address
		lang string
		want string
	}{
		{"banqiao-zh", Banqiao, appliance.LangZhTW, "新北市板橋區歡園里5鄰"},
		{"banqiao-en", Banqiao, appliance.LangEn, "Neighbourhood 5, Huanyuan Vil., Banqiao District, New Taipei City"},
		{"lanyu-zh", Lanyu, appliance.LangZhTW, "臺東縣蘭嶼鄉紅頭村2鄰"},
		{"lanyu-en", Lanyu, appliance.LangEn, "Neighbourhood 2, Hongtou Vil., Lanyu Township, Taitung County"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := New(t, Options{Lang: tc.lang})
			k.Address = tc.a
			k.RegisterUntil(appliance.ScreenReview)
			k.UI.Reveal(k.Find("review.address.a"))
			k.Step()
			k.wantText(t, tc.want)
			k.Tap(appliance.IDSubmit)
			k.Want(appliance.ScreenReceipt)
			k.wantText(t, tc.want)
			n, _ := strconv.Atoi(tc.a.Neighbourhood)
			want := upstream.Household{Number: "F1234567", CountyCode: tc.a.County, TownshipCode: tc.a.Township, VillageCode: tc.a.Village, Neighbourhood: n}
			if sent := k.Sent(); len(sent) != 1 || sent[0] != want {
				t.Errorf("sent to nhisim %+v, want %+v", sent, want)
			}
			if code := k.Code(1); len(code) != 6 {
				t.Errorf("confirmation code %q", code)
			}
			k.CheckNoPII(t)
		})
	}
}

// TestDivisionsReachTheKiosk: nhisim's list changes (板橋區's last village
// renamed). The kiosk, asking again between sessions an hour later, gets
// the new list through the ETag path and shows it; started again while
// nhisim is away, it keeps that newer list from its cache rather than the
// older one built in.
func TestDivisionsReachTheKiosk(t *testing.T) {
	cache := t.TempDir()
	k := New(t, Options{CacheDir: cache})
	renamed := upstream.DivisionsOf(divisions.Builtin()) // a copy
	renamed.Version = "2030-01-01"
	v := &renamed.Counties[slices.IndexFunc(renamed.Counties, func(c upstream.County) bool { return c.Code == "65000" })].Townships[0].Villages[125]
	if v.Code != Banqiao.Village {
		t.Fatalf("板橋區's last village is %s", v.Code)
	}
	v.Name, v.NameEn = "歡樂里", "Huanle Vil."
	if err := k.Sim.Server.SetDivisions(renamed.List()); err != nil {
		t.Fatal(err)
	}
	k.Wait(59 * time.Minute)
	k.RegisterUntil(appliance.ScreenAddress)
	k.PickAddress(Banqiao)
	if strings.Contains(k.Texts(), "歡樂里") {
		t.Fatalf("the new list was used before the hour")
	}
	k.Pull()
	k.Wait(2 * time.Minute)
	k.RegisterUntil(appliance.ScreenAddress)
	k.PickAddress(Banqiao)
	k.wantText(t, "歡樂里")
	k.Pull()

	again := New(t, Options{CacheDir: cache, Down: true})
	again.RegisterUntil(appliance.ScreenAddress)
	again.PickAddress(Banqiao)
	again.wantText(t, "歡樂里")
}
