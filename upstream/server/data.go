package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nhikiosk/nhikiosk/divisions"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// ParseDivisions reads a division list in the CSV form of the built-in
// one (divisions.Parse: the 9 columns county_code … village_en, one
// village a row) and gives it version (YYYY-MM-DD, the date it took
// effect).
func ParseDivisions(r io.Reader, version string) (divisions.List, error) {
	if _, err := time.Parse(time.DateOnly, version); err != nil {
		return divisions.List{}, fmt.Errorf("divisions version %q: not a date YYYY-MM-DD", version)
	}
	l, err := divisions.Parse(r)
	l.Version = version
	return l, err
}

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

// divisionSet is the division list being served, with what is derived
// from it once: its API form, the answer's body (plain and gzipped) and
// its ETag.
type divisionSet struct {
	list     divisions.List
	body, gz []byte
	tag      string
}

func newDivisionSet(l divisions.List) (*divisionSet, error) {
	if len(l.Counties) == 0 || l.Version == "" {
		return nil, errors.New("server: a division list needs counties and a version")
	}
	body, err := json.Marshal(upstream.DivisionsOf(l))
	if err != nil {
		return nil, fmt.Errorf("server: divisions: %w", err)
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(body)
	zw.Close()
	sum := sha256.Sum256(body)
	return &divisionSet{list: l, body: body, gz: gz.Bytes(), tag: `"` + hex.EncodeToString(sum[:12]) + `"`}, nil
}

// SetDivisions replaces the division list served and checked from now on
// (a township merged or renamed): GET /v1/divisions answers it with a new
// ETag, so kiosks pick it up on their next refresh. Safe while serving.
func (s *Server) SetDivisions(l divisions.List) error {
	ds, err := newDivisionSet(l)
	if err != nil {
		return err
	}
	s.divs.Store(ds)
	s.o.Logger.Info("division list", "version", l.Version, "etag", ds.tag)
	return nil
}

// checkAddress checks that the household's codes name a village of the
// list, each under the one before; the first that does not is unknown.
// Codes of a bad form were refused by Validate already.
func (s *Server) checkAddress(h upstream.Household) []upstream.FieldError {
	if h.CountyCode == "" || h.TownshipCode == "" || h.VillageCode == "" {
		return nil
	}
	c, t, v := s.divs.Load().list.Address(h.CountyCode, h.TownshipCode, h.VillageCode)
	var field string
	switch {
	case c == nil:
		field = "household.county_code"
	case t == nil:
		field = "household.township_code"
	case v == nil:
		field = "household.village_code"
	default:
		return nil
	}
	return []upstream.FieldError{{Field: field, Code: upstream.FieldCodeUnknown, Message: "not in the division list; choose from the list"}}
}

// resolveNames fills in the codes of a registration queued by a kiosk
// from before the codes, which named the divisions in Chinese: names not
// in the list are left for the address check to refuse (without codes,
// as required).
func (s *Server) resolveNames(h *upstream.Household) {
	if h.CountyCode != "" || h.TownshipCode != "" || h.VillageCode != "" || h.County == "" {
		return
	}
	byName := func(ds []divisions.Division, name string) *divisions.Division {
		for i := range ds {
			if ds[i].Zh == name {
				return &ds[i]
			}
		}
		return nil
	}
	c := byName(s.divs.Load().list.Counties, h.County)
	if c == nil {
		return
	}
	t := byName(c.Children, h.Township)
	if t == nil {
		return
	}
	if v := byName(t.Children, h.Village); v != nil {
		h.CountyCode, h.TownshipCode, h.VillageCode = c.Code, t.Code, v.Code
		h.County, h.Township, h.Village = "", "", ""
	}
}
