package appliance

// builtinDivisions is the division list of last resort, for a kiosk that
// has never reached the upstream (later it uses the upstream's list, which
// cmd/kiosk caches on disk). It holds only complete data: Lienchiang
// County (Matsu) and Kinmen County's Wuqiu township with every village, as
// nhisim's sample does, so an address picked from it is one the upstream
// accepts. Codes are the Chinese names, as the upstream's are.
var builtinDivisions = []Division{
	{Code: "連江縣", Zh: "連江縣", En: "Lienchiang County", Children: []Division{
		township("南竿鄉", "Nangan", "介壽村", "復興村", "福沃村", "清水村", "仁愛村", "津沙村", "馬祖村", "四維村", "珠螺村"),
		township("北竿鄉", "Beigan", "塘岐村", "后沃村", "橋仔村", "芹壁村", "坂里村", "白沙村"),
		township("莒光鄉", "Juguang", "青帆村", "田沃村", "西坵村", "福正村", "大坪村"),
		township("東引鄉", "Dongyin", "中柳村", "樂華村"),
	}},
	{Code: "金門縣", Zh: "金門縣", En: "Kinmen County", Children: []Division{
		township("烏坵鄉", "Wuqiu", "大坵村", "小坵村"),
	}},
}

// township returns a township with its villages, named by their Chinese
// names.
func township(zh, en string, villages ...string) Division {
	t := Division{Code: zh, Zh: zh, En: en}
	for _, v := range villages {
		t.Children = append(t.Children, Division{Code: v, Zh: v})
	}
	return t
}
