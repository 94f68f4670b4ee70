package divisions

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"testing"
)

// sourceSHA256 is the shared data/divisions.csv the built-in list copies
// (data/README.md).
const sourceSHA256 = "580a871afdf7f04da811990277dfe24fb4d834666087c3f28ea29560afbcc1eb"

func TestBuiltinIsTheSource(t *testing.T) {
	b, err := io.ReadAll(gunzip(builtinCSV))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != sourceSHA256 {
		t.Errorf("data/taiwan.csv.gz holds SHA-256 %s, want %s (update data/README.md with the data)", got, sourceSHA256)
	}
	// Beside the repository, the shared copy it came from (CI lays it
	// there too).
	if src, err := os.ReadFile("../../shared/data/divisions.csv"); err == nil && !bytes.Equal(src, b) {
		t.Errorf("data/taiwan.csv.gz differs from ../shared/data/divisions.csv")
	}
}

func TestBuiltinCounts(t *testing.T) {
	l := Builtin()
	c, tw, v := l.Counts()
	if c != 22 || tw != 368 || v != 7747 {
		t.Errorf("Builtin() has %d counties, %d townships, %d villages; want 22, 368, 7747", c, tw, v)
	}
	if l.Version != BuiltinVersion {
		t.Errorf("Builtin().Version = %q, want %q", l.Version, BuiltinVersion)
	}
	lens := []int{CountyCodeLen, TownshipCodeLen, VillageCodeLen}
	var walk func(ds []Division, parent string, depth int)
	walk = func(ds []Division, parent string, depth int) {
		for _, d := range ds {
			if len(d.Code) != lens[depth] || !strings.HasPrefix(d.Code, parent) || d.Zh == "" || d.En == "" {
				t.Errorf("division %q %q %q under %q", d.Code, d.Zh, d.En, parent)
			}
			if strings.ContainsAny(d.Zh, "[]") {
				t.Errorf("%s: name %q keeps the source's brackets", d.Code, d.Zh)
			}
			walk(d.Children, d.Code, depth+1)
		}
	}
	walk(l.Counties, "", 0)
}

func TestAddress(t *testing.T) {
	l := Builtin()
	for _, tc := range []struct {
		name                      string
		county, township, village string
		want                      [3]string
	}{
		{"Banqiao's last village", "65000", "65000010", "65000010126", [3]string{"新北市", "板橋區", "歡園里"}},
		{"Lanyu's Hongtou", "10014", "10014160", "10014160003", [3]string{"臺東縣", "蘭嶼鄉", "紅頭村"}},
		{"bracketed in the source", "10007", "10007010", "10007010030", [3]string{"彰化縣", "彰化市", "磚磘里"}},
		{"village of another township", "65000", "65000020", "65000010126", [3]string{"新北市", "三重區", ""}},
		{"no such county", "99999", "65000010", "65000010126", [3]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, tw, v := l.Address(tc.county, tc.township, tc.village)
			var got [3]string
			for i, d := range []*Division{c, tw, v} {
				if d != nil {
					got[i] = d.Zh
				}
			}
			if got != tc.want {
				t.Errorf("Address(%s, %s, %s) = %v, want %v", tc.county, tc.township, tc.village, got, tc.want)
			}
		})
	}
	_, b, _ := l.Address("65000", "65000010", "")
	if len(b.Children) != 126 || b.En != "Banqiao District" {
		t.Errorf("板橋區: %d villages, %q; want 126, Banqiao District", len(b.Children), b.En)
	}
}

const head = "county_code,county,county_en,township_code,township,township_en,village_code,village,village_en\n"

func TestParseRefuses(t *testing.T) {
	good := "09007,連江縣,Lienchiang County,09007010,南竿鄉,Nangan Township,09007010001,介壽村,Jieshou Vil.\n"
	for _, tc := range []struct{ name, csv, want string }{
		{"empty", "", "header"},
		{"no rows", head, "no villages"},
		{"old three columns", "county,township,village\n連江縣,南竿鄉,介壽村\n", "wrong number of fields"},
		{"wrong header", strings.Replace(head, "village_en", "english", 1) + good, "header column 9"},
		{"short code", head + strings.Replace(good, "09007010001", "0900701001", 1), "11 digits"},
		{"letters in a code", head + strings.Replace(good, "09007,", "0900A,", 1), "5 digits"},
		{"village of another township", head + strings.Replace(good, "09007010001", "09007020001", 1), "does not start"},
		{"empty name", head + strings.Replace(good, "介壽村", " ", 1), "empty"},
		{"control character", head + strings.Replace(good, "介壽村", "介\x1b壽村", 1), "printable"},
		{"renamed county", head + good + strings.NewReplacer("連江縣", "馬祖縣", "010001", "010002").Replace(good), "named otherwise"},
		{"village twice", head + good + good, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.csv))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestParseOrder(t *testing.T) {
	l, err := Parse(strings.NewReader("\ufeff" + head +
		"09020,金門縣,Kinmen County,09020060,烏坵鄉,Wuqiu Township,09020060002,小坵村,Xiaoqiu Vil.\n" +
		"09007,連江縣,Lienchiang County,09007010,南竿鄉,Nangan Township,09007010001,介壽村,Jieshou Vil.\n" +
		"09020,金門縣,Kinmen County,09020060,烏坵鄉,Wuqiu Township,09020060001,大坵村,Dagiu Vil.\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Counties) != 2 || l.Counties[0].Zh != "金門縣" || len(l.Counties[0].Children[0].Children) != 2 ||
		l.Counties[0].Children[0].Children[1].Zh != "大坵村" || l.Version != "" {
		t.Errorf("Parse kept %+v", l)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(head + "09007,連江縣,Lienchiang County,09007010,南竿鄉,Nangan Township,09007010001,介壽村,Jieshou Vil.\n"))
	f.Add([]byte(head + "1,a,b,2,c,d,3,e,f\n"))
	f.Add([]byte("county,township,village\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		// What Parse accepts is a well-formed tree.
		for _, c := range l.Counties {
			if len(c.Children) == 0 || len(c.Code) != CountyCodeLen {
				t.Fatalf("county %q without townships or with a bad code", c.Code)
			}
			for _, tw := range c.Children {
				if len(tw.Children) == 0 || !strings.HasPrefix(tw.Code, c.Code) {
					t.Fatalf("township %q", tw.Code)
				}
				for _, v := range tw.Children {
					if !strings.HasPrefix(v.Code, tw.Code) || checkName(v.Zh) != nil || checkName(v.En) != nil {
						t.Fatalf("village %q", v.Code)
					}
				}
			}
		}
	})
}

func TestStrokes(t *testing.T) {
	// Taiwan's counts (教育部): 艹 and 辶 are four strokes.
	for _, tc := range []struct {
		r    rune
		want int
	}{
		{'一', 1}, {'大', 3}, {'村', 7}, {'里', 7}, {'花', 8}, {'草', 10}, {'這', 11}, {'華', 12},
		{'新', 13}, {'道', 13}, {'臺', 14}, {'橋', 16}, {'歡', 22}, {'觀', 25}, {'A', 0}, {'㐀', 0},
	} {
		if got := Strokes(tc.r); got != tc.want {
			t.Errorf("Strokes(%q) = %d, want %d", tc.r, got, tc.want)
		}
	}
	for _, c := range Builtin().Counties {
		var walk func(d Division)
		walk = func(d Division) {
			for _, r := range d.Zh {
				if Strokes(r) == 0 {
					t.Errorf("%s %s: no stroke count for %q", d.Code, d.Zh, r)
				}
			}
			for _, ch := range d.Children {
				walk(ch)
			}
		}
		walk(c)
	}
}
