package appliance

// The services, where the menus list them. Adding a flow is its files
// (named after it: name.go, name_*.go) and one line here; see
// docs/wizard.md.

// menuFlows are the menu's services, in the order shown (the first is the
// primary button).
var menuFlows = []entry{
	{name: "register", id: IDRegister, label: "menu.register", new: newRegistration, after: []string{KindNotRegistered}},
	{name: "verify", id: IDVerify, label: "menu.verify", new: newVerify, after: []string{KindAlreadyRegistered, KindNotActive}},
	{name: "resend", id: IDResend, label: "menu.resend", new: newResend, after: []string{KindAlreadyRegistered}},
	{name: "forgot", id: IDForgot, label: "menu.forgot", new: newForgot, after: []string{KindAccountLocked}},
	{name: "delete", id: IDDelete, label: "menu.delete", new: newDelete},
	{name: "account", id: IDLogin, label: "menu.login", new: newAccount, after: []string{KindUnauthorized}, needs: offersAccounts},
}

// accountFlows are the services of the account menu, for a person logged
// in (flow "account").
var accountFlows = []entry{
	{name: "binding", id: IDBind, label: "account.bind", new: newBinding(ViaScreen)},
	{name: "binding", id: IDBindSMS, label: "account.bind_sms", new: newBinding(ViaSMS)},
	{name: "devices", id: IDDevices, label: "account.devices", new: newDevices},
	{name: "contact", id: IDContact, label: "account.contact", new: newContactChange},
	{name: "password", id: IDChangePassword, label: "account.password", new: newPasswordChange},
}

// offersAccounts reports whether the upstream has the account services.
func offersAccounts(u Upstream) bool {
	_, ok := u.(AccountUpstream)
	return ok
}
