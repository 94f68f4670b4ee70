package server

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/nhikiosk/nhikiosk/upstream"
)

// ParseDivisions reads division data as CSV rows county,township,village
// (UTF-8; an optional header row "county,township,village" is skipped) and
// builds the tree in the order rows first name each division.
func ParseDivisions(r io.Reader) (upstream.Divisions, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 3
	cr.ReuseRecord = true
	var d upstream.Divisions
	seen := map[[3]string]bool{}
	for line := 1; ; line++ {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return d, fmt.Errorf("divisions CSV: %w", err)
		}
		if line == 1 && strings.EqualFold(strings.TrimPrefix(row[0], "\ufeff"), "county") {
			continue
		}
		c, t, v := strings.TrimSpace(strings.TrimPrefix(row[0], "\ufeff")), strings.TrimSpace(row[1]), strings.TrimSpace(row[2])
		if c == "" || t == "" || v == "" || !utf8.ValidString(c+t+v) {
			return d, fmt.Errorf("divisions CSV line %d: county, township and village must be non-empty UTF-8", line)
		}
		if seen[[3]string{c, t, v}] {
			continue
		}
		seen[[3]string{c, t, v}] = true
		addDivision(&d, c, t, v)
	}
	if len(d.Counties) == 0 {
		return d, errors.New("divisions CSV: no rows")
	}
	return d, nil
}

// Sample is the built-in division data: a few townships, each complete
// (every village): the four townships of Lienchiang County (Matsu) and
// Wuqiu in Kinmen County. Real deployments pass the full list with
// nhisim -divisions.
func Sample() upstream.Divisions {
	d, err := ParseDivisions(strings.NewReader(sampleCSV))
	if err != nil {
		panic(err)
	}
	return d
}

const sampleCSV = `county,township,village
連江縣,南竿鄉,介壽村
連江縣,南竿鄉,復興村
連江縣,南竿鄉,福沃村
連江縣,南竿鄉,清水村
連江縣,南竿鄉,仁愛村
連江縣,南竿鄉,津沙村
連江縣,南竿鄉,馬祖村
連江縣,南竿鄉,四維村
連江縣,南竿鄉,珠螺村
連江縣,北竿鄉,塘岐村
連江縣,北竿鄉,后沃村
連江縣,北竿鄉,橋仔村
連江縣,北竿鄉,芹壁村
連江縣,北竿鄉,坂里村
連江縣,北竿鄉,白沙村
連江縣,莒光鄉,青帆村
連江縣,莒光鄉,田沃村
連江縣,莒光鄉,西坵村
連江縣,莒光鄉,福正村
連江縣,莒光鄉,大坪村
連江縣,東引鄉,中柳村
連江縣,東引鄉,樂華村
金門縣,烏坵鄉,大坵村
金門縣,烏坵鄉,小坵村
`

// DefaultTerms is the built-in text of the rules of the service: our
// summary of the NHI's rules (SERVICE.md), in Traditional Chinese and
// English.
func DefaultTerms() upstream.Terms {
	return upstream.Terms{Version: "2026-01", Text: map[string]string{"zh-TW": termsZH, "en": termsEN}}
}

const termsZH = `健保卡網路服務注意事項（摘要）
一、本服務以健保卡、帳號及密碼識別使用者；註冊即表示同意本注意事項並提供基本資料。
二、保險人審核申請後以電子郵件通知，使用者確認該郵件後完成註冊；臨櫃註冊免電子郵件確認。
三、使用者按下「同意」或「確認」即為正式意思表示，無需另填書面。
四、資料不完整、錯誤、不實或未更新者，保險人得暫停或終止帳號。
五、健保卡、帳號及密碼限本人或其授權代理人使用，不得出租、出借或轉讓。
六、忘記密碼或密碼錯誤次數過多時，須依保險人之程序重設。
七、發現遭他人冒用應立即通知保險人。
八、保險人保存註冊紀錄，對使用者資料保密，並僅供公務使用。`

const termsEN = `Rules of the NHI card network service (summary)
1. The service identifies users by their NHI card, account and password; registering means accepting these rules and giving your basic data.
2. The insurer reviews the application and answers by e-mail; you complete registration by confirming that e-mail. Registering in person needs no e-mail step.
3. Pressing "agree" or "confirm" is a formal declaration of intent; no paper form is needed.
4. Incomplete, wrong, false or outdated data lets the insurer suspend or end the account.
5. Card, account and password are for you or your authorised agent only; they may not be rented, lent or transferred.
6. A forgotten password, or too many wrong ones, stops the service until you follow the insurer's reset procedure.
7. Report misuse by someone else at once.
8. The insurer keeps registration records, keeps your data confidential and uses it only for official purposes.`

// addDivision inserts one row into d.
func addDivision(d *upstream.Divisions, c, t, v string) {
	ci := -1
	for i := range d.Counties {
		if d.Counties[i].Name == c {
			ci = i
		}
	}
	if ci < 0 {
		d.Counties = append(d.Counties, upstream.County{Name: c})
		ci = len(d.Counties) - 1
	}
	county := &d.Counties[ci]
	ti := -1
	for i := range county.Townships {
		if county.Townships[i].Name == t {
			ti = i
		}
	}
	if ti < 0 {
		county.Townships = append(county.Townships, upstream.Township{Name: t})
		ti = len(county.Townships) - 1
	}
	county.Townships[ti].Villages = append(county.Townships[ti].Villages, v)
}
