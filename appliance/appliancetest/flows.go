package appliancetest

import (
	"context"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
)

// Step is one screen of the registration and what a person does on it.
type Step struct {
	Screen appliance.ScreenID
	Do     func(k *Kiosk)
}

// RegisterSteps is the registration as a person does it on the screen,
// with the kiosk's Address (Matsu unless the test chose another).
var RegisterSteps = []Step{
	{appliance.ScreenMenu, func(k *Kiosk) { k.Tap(appliance.IDRegister) }},
	{appliance.ScreenTerms, func(k *Kiosk) { k.ReadTerms(); k.Tap(appliance.IDAgree) }},
	{appliance.ScreenCard, func(k *Kiosk) { k.Tap(appliance.IDNext) }},
	{appliance.ScreenHousehold, func(k *Kiosk) { k.Fill(appliance.FieldHousehold, "F1234567"); k.Tap(appliance.IDNext) }},
	{appliance.ScreenAddress, func(k *Kiosk) {
		k.PickAddress(k.Address)
		k.Tap(appliance.IDNext)
	}},
	{appliance.ScreenPassword, func(k *Kiosk) {
		k.Fill(appliance.FieldPassword, Password)
		k.Fill(appliance.FieldPassword2, Password)
		k.Tap(appliance.IDNext)
	}},
	{appliance.ScreenContact, func(k *Kiosk) {
		k.Fill(appliance.FieldPhoneArea, "02")
		k.Fill(appliance.FieldPhoneNumber, "23456789")
		k.Fill(appliance.FieldMobile, "0912345678")
		k.Fill(appliance.FieldEmail, k.Email)
		k.Tap(appliance.IDNext)
	}},
	{appliance.ScreenReview, func(k *Kiosk) { k.Tap(appliance.IDSubmit) }},
}

// RegisterUntil inserts the card and goes through the registration on
// the screen until it shows stop (ScreenReceipt: all the way).
func (k *Kiosk) RegisterUntil(stop appliance.ScreenID) {
	k.T.Helper()
	k.Insert()
	for _, st := range RegisterSteps {
		k.Want(st.Screen)
		if st.Screen == stop {
			return
		}
		st.Do(k)
	}
	k.Want(stop)
}

// Registration is the test person's registration as the kiosk would send
// it, for setting up state through the API.
func (k *Kiosk) Registration() upstream.Registration {
	return upstream.Registration{
		CardNumber: k.Person.CardNumber, IDNumber: k.Person.IDNumber, Name: k.Person.Name,
		BirthDate: k.Person.BirthDate.Format("2006-01-02"),
		Household: upstream.Household{Number: "F1234567", CountyCode: Matsu.County, TownshipCode: Matsu.Township,
			VillageCode: Matsu.Village, Neighbourhood: 3},
		Password: Password,
		Contact: upstream.Contact{Phone: upstream.Phone{AreaCode: "02", Number: "23456789"},
			Mobile: "0912345678", Email: k.Email},
		TermsVersion: server.DefaultTerms().Version,
		KioskID:      "e2e-setup",
	}
}

// RegisterByAPI registers the test person directly with nhisim (the first
// e-mail is the confirmation), and verifies the e-mail too if active.
func (k *Kiosk) RegisterByAPI(active bool) {
	k.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := k.Client.Register(ctx, k.Registration()); err != nil {
		k.T.Fatalf("register by API: %v", err)
	}
	if active {
		if err := k.Client.Verify(ctx, k.Person.CardNumber, k.Person.IDNumber, k.Code(1)); err != nil {
			k.T.Fatalf("verify by API: %v", err)
		}
	}
}
