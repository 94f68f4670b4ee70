package appliance

import (
	"fmt"
	"strings"

	"github.com/nhikiosk/nhikiosk/display"
)

// BuiltinTermsVersion is the version of the built-in copy of the rules of
// the service, which the kiosk shows when the upstream's text cannot be
// fetched. A registration records the version the person accepted.
const BuiltinTermsVersion = "kiosk-builtin-1"

// builtinTerms returns the built-in rules of the service in lang. The text
// is our own summary of the NHI's rules (see SERVICE.md), not the NHI's
// wording; the upstream's text replaces it whenever it answers.
func builtinTerms(lang string) Terms {
	points := termsZh
	title := termsTitleZh
	if lang == LangEn {
		points, title = termsEn, termsTitleEn
	}
	var b strings.Builder
	b.WriteString(title)
	b.WriteString("\n")
	for _, p := range points {
		b.WriteString("\n")
		b.WriteString(p)
		b.WriteString("\n")
	}
	return Terms{Version: BuiltinTermsVersion, Lang: lang, Text: b.String()}
}

// termsSpeech is what the rules of version v say in audio mode (issue 20):
// the built-in copy paragraph by paragraph from its recordings; rules the
// upstream sent, which were not recorded, are said to be on screen, and
// the built-in summary of the same rules follows.
func termsSpeech(v string) []display.Msg {
	var out []display.Msg
	if v != BuiltinTermsVersion {
		out = append(out, display.M("terms.unrecorded", "v", v))
	}
	for i := range len(termsZh) + 1 {
		out = append(out, display.M(fmt.Sprintf("terms.builtin.%d", i)))
	}
	return out
}

// addTermsMessages adds the built-in rules to the catalog, a message per
// paragraph (0 is the title), so they are recorded for speech.
func addTermsMessages(cat *display.Catalog) {
	for _, lang := range []string{LangZhTW, LangEn} {
		points, title := termsZh, termsTitleZh
		if lang == LangEn {
			points, title = termsEn, termsTitleEn
		}
		cat.Add(lang, "terms.builtin.0", title)
		for i, p := range points {
			cat.Add(lang, fmt.Sprintf("terms.builtin.%d", i+1), p)
		}
	}
}

const (
	termsTitleZh = "健保卡網路服務註冊使用規範（摘要）"
	termsTitleEn = "Rules of the NHI card network service (summary)"
)

var termsZh = []string{
	"一、用詞：「基本資料」是保險人用來確認使用者身分的資料；「註冊」是使用者以保險人認可的載具（健保卡）、帳號及密碼，在網路上或到健保署各分區業務組申請使用本服務。",
	"二、保險人提供網路服務專區，使用者以載具、帳號及密碼註冊，同意本規範並填寫基本資料。",
	"三、保險人審核申請後以電子郵件回覆；使用者確認該電子郵件後完成註冊。臨櫃註冊者不需要電子郵件確認。",
	"四、保險人得將本身分確認機制提供其他政府機關的網路服務使用。",
	"五、使用本服務所需的軟體、硬體及安全設備，由使用者自行準備並負擔費用。",
	"六、在本服務按下「同意」或「確認」，即為正式的意思表示，不需再填寫紙本。",
	"七、資料不完整、錯誤、不實或未隨時更新，保險人得暫停或終止其帳號。",
	"八、健保卡、帳號及密碼只限本人或其授權的代理人使用，不得出租、出借或轉讓，違者得暫停其帳號。",
	"九、忘記密碼或多次輸入錯誤，服務可能暫停，使用者須依保險人的程序重新設定。",
	"十、發現他人冒用，應立即通知保險人；未通知所生的損失由使用者自行負責。",
	"十一、本服務在公告的服務時間內提供，維護期間可能暫停；各分區業務組櫃檯照常服務。",
	"十二、日後新增的服務不需重新註冊；使用新服務即表示同意其規範。",
	"十三、保險人保存註冊紀錄，對使用者資料負保密義務，只用於公務目的。",
	"十四、保險人認可的載具及使用本身分確認機制的機關，公布於保險人網站。",
	"以上為本機台依健保署規範所寫的摘要；完整內容以健保署網站公告為準。",
}

var termsEn = []string{
	"1. Words used: \"basic data\" is what lets the insurer confirm who a user is; \"registration\" is applying to use this service with a carrier the insurer accepts (the NHI card), an account and a password, online or at an NHI office.",
	"2. The insurer runs the online service area, where users register with their carrier, account and password, agree to these rules and fill in their basic data.",
	"3. The insurer reviews the application and answers by e-mail; the user completes registration by confirming that e-mail. Registering in person at an office needs no e-mail step.",
	"4. The insurer may let other government agencies use this identity check for their online services.",
	"5. Users provide, and pay for, the software, hardware and security equipment they use the service with.",
	"6. Pressing \"agree\" or \"confirm\" in the service is a formal declaration of intent; no paper form is needed.",
	"7. If data is incomplete, wrong or false, or not kept up to date, the insurer may suspend or end the account.",
	"8. The card, account and password are for the user or their authorised agent only. They may not be rented, lent or passed on; if they are, the account may be suspended.",
	"9. A forgotten password, or a password typed wrongly too often, can stop the service until the user follows the insurer's recovery procedure.",
	"10. Report misuse by anyone else at once; losses from not reporting it are the user's.",
	"11. The service runs within its published hours; maintenance may interrupt it, and NHI offices stay open.",
	"12. Services added later need no new registration; using them means accepting their rules.",
	"13. The insurer keeps records of registrations, keeps users' data confidential and uses it only for official purposes.",
	"14. The carriers the insurer accepts, and the agencies using its identity check, are published on its website.",
	"This is the kiosk's own summary of the NHI's rules; the full text published on the NHI's website prevails.",
}
