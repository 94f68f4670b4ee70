package appliance

// builtinDivisions is the division list the kiosk falls back to when the
// upstream's cannot be fetched: every county and city with its official
// code, and Taipei City's districts. It is deliberately partial (no
// villages; the other counties' townships come only from the upstream): a
// level the list lacks is skipped, and the upstream, which holds the
// household registration's own data, completes the address.
var builtinDivisions = []Division{
	{Code: "63000", Zh: "臺北市", En: "Taipei City", Children: []Division{
		{Code: "63000010", Zh: "松山區", En: "Songshan"},
		{Code: "63000020", Zh: "信義區", En: "Xinyi"},
		{Code: "63000030", Zh: "大安區", En: "Da'an"},
		{Code: "63000040", Zh: "中山區", En: "Zhongshan"},
		{Code: "63000050", Zh: "中正區", En: "Zhongzheng"},
		{Code: "63000060", Zh: "大同區", En: "Datong"},
		{Code: "63000070", Zh: "萬華區", En: "Wanhua"},
		{Code: "63000080", Zh: "文山區", En: "Wenshan"},
		{Code: "63000090", Zh: "南港區", En: "Nangang"},
		{Code: "63000100", Zh: "內湖區", En: "Neihu"},
		{Code: "63000110", Zh: "士林區", En: "Shilin"},
		{Code: "63000120", Zh: "北投區", En: "Beitou"},
	}},
	{Code: "65000", Zh: "新北市", En: "New Taipei City"},
	{Code: "68000", Zh: "桃園市", En: "Taoyuan City"},
	{Code: "66000", Zh: "臺中市", En: "Taichung City"},
	{Code: "67000", Zh: "臺南市", En: "Tainan City"},
	{Code: "64000", Zh: "高雄市", En: "Kaohsiung City"},
	{Code: "10017", Zh: "基隆市", En: "Keelung City"},
	{Code: "10018", Zh: "新竹市", En: "Hsinchu City"},
	{Code: "10020", Zh: "嘉義市", En: "Chiayi City"},
	{Code: "10004", Zh: "新竹縣", En: "Hsinchu County"},
	{Code: "10005", Zh: "苗栗縣", En: "Miaoli County"},
	{Code: "10007", Zh: "彰化縣", En: "Changhua County"},
	{Code: "10008", Zh: "南投縣", En: "Nantou County"},
	{Code: "10009", Zh: "雲林縣", En: "Yunlin County"},
	{Code: "10010", Zh: "嘉義縣", En: "Chiayi County"},
	{Code: "10013", Zh: "屏東縣", En: "Pingtung County"},
	{Code: "10002", Zh: "宜蘭縣", En: "Yilan County"},
	{Code: "10015", Zh: "花蓮縣", En: "Hualien County"},
	{Code: "10014", Zh: "臺東縣", En: "Taitung County"},
	{Code: "10016", Zh: "澎湖縣", En: "Penghu County"},
	{Code: "09020", Zh: "金門縣", En: "Kinmen County"},
	{Code: "09007", Zh: "連江縣", En: "Lienchiang County"},
}
