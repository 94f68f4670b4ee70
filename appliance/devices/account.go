package devices

import (
	"context"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/upstream"
)

var _ appliance.AccountUpstream = Upstream{}

// Login opens an account session with the card and the registration
// password.
func (u Upstream) Login(ctx context.Context, id appliance.Identity, password string) (appliance.AccountSession, error) {
	s, err := u.Client.Login(ctx, id.CardNumber, id.IDNumber, password, upstream.WithCardAuth(id.CardProof))
	if err != nil {
		return nil, wizardError("login", err)
	}
	return accountSession{s}, nil
}

// accountSession is the wizard's account session on the client's.
type accountSession struct{ s *upstream.AccountSession }

func (a accountSession) Logout(ctx context.Context) error {
	return wizardError("logout", a.s.Logout(ctx))
}

func (a accountSession) Devices(ctx context.Context) ([]appliance.Device, error) {
	ds, err := a.s.Devices(ctx)
	if err != nil {
		return nil, wizardError("devices", err)
	}
	out := make([]appliance.Device, 0, len(ds))
	for _, d := range ds {
		out = append(out, appliance.Device{ID: d.DeviceID, Name: d.Name, LinkedAt: d.LinkedAt, LastUsed: d.LastUsed})
	}
	return out, nil
}

func (a accountSession) RemoveDevice(ctx context.Context, deviceID string) error {
	return wizardError("remove device", a.s.RemoveDevice(ctx, deviceID))
}

func (a accountSession) StartBinding(ctx context.Context, via string) (appliance.Binding, error) {
	b, err := a.s.StartBinding(ctx, via)
	if err != nil {
		return appliance.Binding{}, wizardError("start binding", err)
	}
	return appliance.Binding{ID: b.BindingID, Code: b.Code, ValidFor: time.Until(b.ExpiresAt), Via: b.Via, SentTo: b.SentTo}, nil
}

func (a accountSession) BindingStatus(ctx context.Context, id string, wait time.Duration) (appliance.BindingStatus, error) {
	st, err := a.s.BindingStatus(ctx, id, wait)
	if err != nil {
		return appliance.BindingStatus{}, wizardError("binding status", err)
	}
	out := appliance.BindingStatus{Status: st.Status}
	if st.Device != nil {
		out.Device = appliance.Device{ID: st.Device.DeviceID, Name: st.Device.Name, LinkedAt: st.Device.LinkedAt, LastUsed: st.Device.LastUsed}
	}
	return out, nil
}

func (a accountSession) ChangePassword(ctx context.Context, current, next string) error {
	return wizardError("change password", a.s.ChangePassword(ctx, current, next))
}

func (a accountSession) Contact(ctx context.Context) (appliance.Contact, error) {
	acc, err := a.s.Account(ctx)
	if err != nil {
		return appliance.Contact{}, wizardError("account", err)
	}
	c := acc.Contact
	return appliance.Contact{PhoneArea: c.Phone.AreaCode, PhoneNumber: c.Phone.Number, PhoneExt: c.Phone.Extension,
		Mobile: c.Mobile, Email: c.Email, BackupEmail: c.BackupEmail}, nil
}

func (a accountSession) ChangeContact(ctx context.Context, c appliance.Contact) (bool, error) {
	st, err := a.s.ChangeContact(ctx, upstream.Contact{
		Phone:  upstream.Phone{AreaCode: c.PhoneArea, Number: c.PhoneNumber, Extension: c.PhoneExt},
		Mobile: c.Mobile, Email: c.Email, BackupEmail: c.BackupEmail})
	if err != nil {
		return false, wizardError("change contact", err)
	}
	return st == upstream.StatusEmailPending, nil
}

func (a accountSession) ConfirmEmail(ctx context.Context, code string) error {
	return wizardError("confirm e-mail", a.s.ConfirmEmail(ctx, code))
}
