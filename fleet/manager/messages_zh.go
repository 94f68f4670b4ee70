package manager

// zhTW is the console in Traditional Chinese as used in Taiwan (issue 19),
// keyed by its English text. TestCatalogComplete keeps every string the
// templates translate here; machine words (statuses, commands, reasons)
// are keyed by their English form with spaces for underscores.
var zhTW = map[string]string{
	// Frame and navigation.
	"nhikiosk fleet": "健保服務機 管理平台", "fleet": "管理平台", "Fleet": "總覽", "Groups": "群組", "Jobs": "批次作業",
	"Configuration": "集中設定", "Alerts": "警示", "Sites": "據點", "Notifications": "通知", "Users": "使用者",
	"Audit": "稽核紀錄", "Account": "帳號", "live": "即時", "live updates": "即時更新", "Log out": "登出",
	"Log in": "登入", "User": "使用者", "Password": "密碼", "Wrong user name or password.": "使用者名稱或密碼錯誤。",
	"Second factor": "兩步驟驗證", "Code from your authenticator app": "驗證器 App 上的 6 位數驗證碼",
	"Wrong or already used code.": "驗證碼錯誤或已使用過。", "sites": "個據點", "Done.": "已完成。",
	"Taipei time": "台北時間", "The broker is unreachable": "無法連線至 MQTT 代理伺服器",
	"fleetd cannot hear the kiosks, so their state is unknown until it can again.": "管理平台收不到服務機的訊息，恢復連線前各服務機狀態不明。",
	"since": "自", "Since": "發生時間",

	// Overview and lists.
	"Kiosks": "服務機", "kiosks": "台服務機", "count": "台數", "%d kiosks": "%d 台", "%d chosen kiosks": "勾選的 %d 台", "within your sites": "限您的據點", "until the kiosk is online": "等服務機上線", "kiosk": "服務機", "Kiosk": "服務機", "site": "據點", "state": "狀態",
	"alerts": "警示", "alert": "警示", "groups": "群組", "group": "群組", "configuration": "設定", "version": "版本",
	"reader": "讀卡機", "last heard": "最後回報", "all sites": "全部據點", "any state": "任何狀態", "any group": "任何群組",
	"any version": "任何版本", "any alert state": "任何警示狀態", "with an alert": "有警示", "any configuration": "任何設定狀態",
	"any enrollment": "任何登錄狀態", "kiosk name": "服務機名稱", "Filter": "篩選", "clear": "清除",
	"select all shown": "全選本頁", "No kiosk matches. Kiosks appear here when they are enrolled or first heard.": "沒有符合條件的服務機。服務機登錄或首次回報後會出現在這裡。",
	"%d of %d": "顯示 %d／共 %d 台", "next page": "下一頁", "open alerts": "未處理警示", "By site": "各據點狀態",
	"%d enrolled, %d revoked, %d never seen": "已登錄 %d 台、已撤銷 %d 台、從未回報 %d 台", "missing": "未連接",
	"Selected": "已勾選", "or all %d that match": "或符合篩選的全部 %d 台", "action": "動作", "language": "語言",
	"retry for": "重試", "h": "小時", "Start job": "開始批次作業", "group, e.g. region:north": "群組，例如 region:north",
	"Add to group": "加入群組", "enrolled": "已登錄", "revoked": "已撤銷", "enrolled, never seen": "已登錄、從未回報",
	"never seen": "從未回報", "the fleet": "整個平台",

	// Kiosk page.
	"connection lost": "連線中斷", "image": "映像檔", "booted": "開機時間", "offline when silent for %s": "靜默 %s 後視為離線",
	"none": "無", "enrollment": "登錄", "enrolled %s by %s": "%s 由 %s 登錄", "not enrolled by this fleetd": "非由本平台登錄",
	"acknowledged by %s": "已由 %s 確認", "Actions": "操作", "Command %s sent; its answer appears under Commands.": "指令 %s 已送出，回覆會顯示在「指令」中。",
	"Set language": "設定語言", "Remove from group": "移出群組", "Revoke %s's credential? It is cut off at once.": "撤銷 %s 的憑證？它會立即斷線。",
	"Revoke credential": "撤銷憑證", "Health": "健康狀態", "uptime": "運作時間", "display": "螢幕", "upstream": "上游服務",
	"reachable, %d ms": "可連線，%d 毫秒", "unreachable": "無法連線", "outbox": "待送佇列", "%d queued": "%d 筆待送",
	"oldest %s": "最舊 %s", "/perm free": "/perm 可用空間", "load": "負載", "memory": "記憶體", "sessions today": "今日使用",
	"%d started, %d completed": "開始 %d 次、完成 %d 次", "errors": "錯誤", "telemetry dropped": "遺失的遙測",
	"Last 24 hours": "最近 24 小時", "now": "目前", "no data": "沒有資料", "Commands": "指令", "sent": "已送出",
	"command": "指令", "by": "執行者", "answer": "回覆", "job": "批次作業", "disk": "磁碟", "kiosk screen": "服務機畫面",
	"waiting…": "等待回覆…", "No command sent yet.": "尚未送出任何指令。", "Events": "事件", "time": "時間", "event": "事件",
	"detail": "細節", "No events in the last 24 hours.": "最近 24 小時沒有事件。",
	"CPU temperature": "CPU 溫度", "Load (1 min)": "負載（1 分鐘）", "Free on /perm": "/perm 可用空間",
	"Upstream latency": "上游服務延遲", "Outbox depth": "待送筆數",

	// Kiosk configuration.
	"No central configuration applies to this kiosk: it runs its own config.json.": "這台服務機沒有套用集中設定，使用本機的 config.json。",
	"fleetd wants": "平台要求", "the kiosk runs": "服務機目前執行", "last accepted": "最近接受", "refused": "已拒絕",
	"the kiosk checked it with its own config.json, found it invalid there, and keeps running its current configuration.": "服務機以本機 config.json 檢查後判定此設定無效，仍執行目前的設定。",
	"pending": "待套用", "accepted; the kiosk switches to it when no session is in progress.": "已接受；服務機會在沒有民眾使用時切換。",
	"differs since": "不一致起始", "last sent": "最近送出", "from": "來源", "This kiosk's own layer": "本服務機專屬設定層",
	"Save and send": "儲存並送出", "Remove layer": "移除設定層",

	// Alerts and audit.
	"No alerts. Every kiosk is well.": "沒有警示，所有服務機都正常。", "Acknowledge": "確認", "%d more.": "還有 %d 筆。",
	"Audit log": "稽核紀錄", "user": "使用者", "Nothing yet.": "尚無紀錄。", "Operator key": "操作金鑰",
	"Kiosks obey commands signed by this key. Put this line in each kiosk's": "服務機只執行此金鑰簽署的指令。請將這一行放入每台服務機的",

	// Groups.
	"A group is a tag on kiosks, such as region:north, type:hospital-lobby or pilot:wave-1. Add kiosks to a group from the fleet list or a kiosk's page.": "群組是服務機上的標籤，例如 region:north、type:hospital-lobby 或 pilot:wave-1。可在總覽清單或服務機頁面將服務機加入群組。",
	"has a layer": "有設定層", "No groups yet.": "尚無群組。", "Configuration of this group": "本群組的設定",
	"rank %d · set by %s, %s": "順位 %d · 由 %s 設定，%s", "No layer: the kiosks take the fleet's configuration and their own.": "沒有設定層：服務機採用全平台及各自的設定。",
	"Edit the group's layer": "編輯群組設定層", "Recent jobs": "最近的批次作業", "Kiosks in %s": "%s 群組的服務機",
	"or the whole group (%d)": "或整個群組（%d 台）", "Remove selected from group": "將勾選的移出群組",
	"No kiosk in this group.": "此群組沒有服務機。",

	// Jobs.
	"started": "開始", "progress": "進度", "until": "期限", "retrying %s more": "還會重試 %s", "cancelled": "已取消",
	"finished": "已結束", "No jobs yet.": "尚無批次作業。",
	"A job sends one action to many kiosks, and keeps asking those it could not reach until it expires. Start one from the fleet list or a group.": "批次作業將同一個動作送給多台服務機，並持續重送給暫時無法連線的服務機，直到作業到期。可從總覽清單或群組開始。",
	"in progress": "進行中", "by %s": "由 %s", "retries until": "重試至", "%s from now": "還有 %s",
	"%d of %d done. Kiosks that are offline wait, and get the command when they are back.": "已完成 %d／%d 台。離線的服務機會在恢復連線後收到指令。",
	"Stop asking the kiosks that are not done?":                                            "停止重送給尚未完成的服務機？", "Cancel job": "取消作業",
	"attempts": "嘗試次數", "again %s": "再試 %s", "unanswered": "未回覆", "send failed": "送出失敗",

	// Central configuration.
	"Central configuration": "集中設定", ": ": "：", "The %d sites with the most kiosks in trouble; %d more on the Sites page.": "列出異常服務機最多的 %d 個據點；其餘 %d 個請見據點頁。", "All sites": "所有據點", "The whole fleet": "全平台",
	"fleetd sends each kiosk the fleet's layer, then its groups' (by rank), then its own: a later layer wins field by field. A layer is checked by the same rules as kiosk -check-config before it is accepted; each kiosk checks it again with its own config.json and switches to it between sessions. Secrets, file paths, identity and the broker connection are never part of it.": "平台依序將全平台設定層、各群組設定層（依順位）與服務機專屬設定層送給每台服務機，後面的設定層逐欄覆蓋前面的。設定層儲存前會以與 kiosk -check-config 相同的規則檢查；每台服務機也會再以本機 config.json 檢查，並在沒有民眾使用時切換。密鑰、檔案路徑、識別資料與代理伺服器連線永遠不在集中設定中。",
	"rank %d": "順位 %d", "No group has a layer.": "沒有群組設定層。", "New group layer": "新增群組設定層",
	"No kiosk has a layer of its own. Set one on the kiosk's page.":          "沒有服務機專屬設定層，可在服務機頁面設定。",
	"Fields a central configuration may set":                                 "集中設定可設定的欄位",
	"See the README's configuration reference for their meaning and limits.": "欄位意義與限制請見 README 的設定參考。",
	"No layer.": "沒有設定層。", "set by %s, %s": "由 %s 設定，%s", "Edit": "編輯", "rank": "順位",
	"Check, save and send": "檢查、儲存並送出", "Remove this layer?": "移除這個設定層？",

	// Sites.
	"A site's id is what its kiosks are configured with; its name is what people call it, written as you like.": "據點代碼是服務機設定中使用的代碼；名稱是大家習慣的稱呼，可自由填寫。",
	"site id": "據點代碼", "name": "名稱", "Save": "儲存", "No sites yet.": "尚無據點。",

	// Users and account.
	"Password for %s (shown once; give it to them safely):": "%s 的密碼（只顯示這一次，請以安全方式交給對方）：",
	"role and sites": "角色與據點", "second factor": "兩步驟驗證", "disabled": "已停用", "role": "角色", "Enable": "啟用",
	"Disable": "停用", "Disable %s? Their sessions and API tokens stop at once.": "停用 %s？其登入與 API 權杖會立即失效。",
	"Reset": "重設", "Give %s a new password and remove their second factor?": "為 %s 產生新密碼並移除其兩步驟驗證？",
	"Add a user": "新增使用者", "user name": "使用者名稱", "sites, e.g. taipei-branch (empty: all)": "據點，例如 taipei-branch（空白表示全部）",
	"Add": "新增", "Viewers see; operators also act (commands, jobs, groups, configuration, alerts); admins also manage users, notifications and site names. Sites limit what a user sees and acts on.": "檢視者只能查看；操作員還能操作（指令、批次作業、群組、設定、警示）；管理員還能管理使用者、通知與據點名稱。據點限制使用者能查看與操作的範圍。",
	"Your account": "我的帳號", "Your sites": "我的據點", "You see every site.": "您可以查看所有據點。", "Language": "語言",
	"current password": "目前密碼", "new password (12 characters or more)": "新密碼（至少 12 個字元）", "new password": "新密碼",
	"Change password": "變更密碼", "Scan this with an authenticator app, or type the key, then enter a code to turn it on:": "請用驗證器 App 掃描或輸入金鑰，再輸入驗證碼以啟用：",
	"code": "驗證碼", "Turn on": "啟用", "On: logging in asks for a code from your authenticator app.": "已啟用：登入時需要驗證器 App 的驗證碼。",
	"Turn off": "停用", "Off. With a second factor, a stolen password is not enough to log in.": "未啟用。啟用兩步驟驗證後，即使密碼外洩也無法登入。",
	"Set up": "設定", "API tokens": "API 權杖", "Your new token (shown once; scripts send it as Authorization: Bearer …):": "新的權杖（只顯示這一次；程式以 Authorization: Bearer … 送出）：",
	"owner": "擁有者", "created": "建立", "expires": "到期", "Revoke": "撤銷", "No tokens.": "沒有權杖。",
	"what it is for": "用途", "sites (empty: yours)": "據點（空白表示您的全部據點）", "days": "天數", "Make a token": "建立權杖",

	// Notifications.
	"Notification rules": "通知規則", "No SMTP server is configured (fleetd -smtp): e-mail notifications fail until one is.": "尚未設定 SMTP 伺服器（fleetd -smtp），設定前電子郵件通知會失敗。",
	"rule": "規則", "for": "對象", "to": "通知", "when": "時機", "quiet hours": "勿擾時段", "every alert": "所有警示",
	"%d e-mail addresses": "%d 個電子郵件地址", "webhook": "Webhook", "new": "新警示", "escalated after %s": "%s 後升級",
	"resolved": "已解除", "Delete": "刪除", "Delete this rule?": "刪除這條規則？", "No rules: nobody is told of alerts.": "沒有規則：警示不會通知任何人。",
	"Edit rule": "編輯規則", "New rule": "新增規則", "alerts (none: all)": "警示種類（不選表示全部）",
	"sites (none: all)": "據點（空白表示全部）", "groups (none: all)": "群組（空白表示全部）", "e-mail to": "電子郵件收件人",
	"webhook URL": "Webhook 網址", "webhook secret (HMAC-SHA256)": "Webhook 簽章密鑰（HMAC-SHA256）", "unchanged": "不變更",
	"tell when": "通知時機", "an alert is new": "出現新警示", "it is resolved": "警示解除",
	"still unacknowledged after": "持續未確認超過", "minutes (0: never)": "分鐘（0 表示不升級）",
	"New alert": "新警示", "Alert still open": "警示仍未處理", "Alert resolved": "警示已解除", "Resolved": "解除時間",
	"Rule": "規則", "Console": "管理平台",

	// Times.
	"never": "從未", "in %s": "%s 後", "%ds ago": "%d 秒前", "%dm ago": "%d 分鐘前", "%dh %dm ago": "%d 小時 %d 分鐘前",
	"%d h": "%d 小時", "%d min": "%d 分", "%d s": "%d 秒",

	// Machine words: statuses and states.
	"online": "連線中", "faulty": "異常", "maintenance": "維護中", "offline": "離線", "unknown": "狀態不明",
	"reader missing": "讀卡機未連接", "outbox stuck": "待送佇列停滯", "disk low": "磁碟空間不足", "temperature": "溫度過高",
	"tamper": "機殼開啟", "broker unreachable": "代理伺服器無法連線", "configuration drift": "設定不一致",
	"in sync": "已同步", "drift": "不一致", "unmanaged": "未集中管理",
	"waiting": "等待中", "ok": "完成", "failed": "失敗", "rejected": "被拒收", "expired": "已逾期",
	"viewer": "檢視者", "operator": "操作員", "admin": "管理員", "not enrolled": "未登錄",

	// Commands, answers and reasons.
	"maintenance on": "開啟維護模式", "maintenance off": "結束維護模式", "self test": "自我檢測", "screenshot": "螢幕截圖",
	"reload config": "重新載入設定", "set language": "設定語言", "restart": "重新啟動", "reboot": "重新開機",
	"apply config": "套用集中設定", "update": "更新", "session active": "民眾使用中", "invalid config": "設定無效",
	"unsupported": "不支援", "busy": "忙碌中", "malformed": "格式錯誤", "unsigned": "未簽署", "unknown key": "未知金鑰",
	"bad signature": "簽章錯誤", "wrong kiosk": "對象錯誤", "expiry too far": "有效期過長", "replay": "重複指令",
	"not yet valid": "尚未生效",

	// Events, errors and session ends.
	"touch missing": "觸控裝置未連接", "outbox dead letter": "待送資料遭上游拒收", "touch restored": "觸控裝置已恢復", "reader unplugged": "讀卡機拔除", "reader replugged": "讀卡機接回", "card error": "卡片錯誤", "help requested": "民眾求助",
	"command rejected": "拒絕指令", "config reloaded": "設定已重新載入", "unreadable": "無法讀取", "not nhi": "非健保卡",
	"removed mid read": "讀取中拔卡", "protocol": "通訊協定錯誤", "card removed": "拔出卡片", "idle timeout": "閒置逾時",
	"max duration": "超過使用時限", "upstream error": "上游服務錯誤", "card": "卡片", "internal": "內部錯誤",

	// Audit actions.
	"alert ack": "確認警示", "enroll": "登錄", "revoke": "撤銷", "login": "登入", "user add": "新增使用者",
	"user update": "變更使用者", "user disable": "停用使用者", "user enable": "啟用使用者", "user reset": "重設使用者",
	"password change": "變更密碼", "totp enable": "啟用兩步驟驗證", "totp disable": "停用兩步驟驗證",
	"token create": "建立權杖", "token revoke": "撤銷權杖", "job create": "建立批次作業", "job cancel": "取消批次作業",
	"config set": "設定集中設定", "config remove": "移除集中設定", "site name": "據點名稱", "tag": "群組標籤",
	"rule add": "新增通知規則", "rule update": "變更通知規則", "rule delete": "刪除通知規則", "notify": "送出通知",
	"notify failed": "通知失敗",
}
