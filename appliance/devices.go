package appliance

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
)

// Screens of the mobile device management (行動裝置管理作業).
const (
	ScreenDevices      ScreenID = "devices"
	ScreenRemoveDevice ScreenID = "remove_device"
)

// Widget ids of the device management. A device's remove button is
// IDRemoveDevice + its position in the list ("device.remove.0").
const (
	IDDevices      = "account.devices"
	IDRemoveDevice = "device.remove."
	IDConfirm      = "confirm"
)

var devicesScreens = map[ScreenID]screenSpec{ScreenDevices: {}, ScreenRemoveDevice: {}}

// devices lists the account's linked mobile devices and unlinks one. The
// devices' names come from the phones: shown, never logged.
type devices struct {
	from   ScreenID // where it was started (the account menu)
	list   []Device
	remove int // the position of the device chosen for removal
	// note is a message key shown above the list (what the last removal
	// did).
	note string
}

func newDevices() flow { return &devices{} }

func (d *devices) screens() map[ScreenID]screenSpec { return devicesScreens }

func (d *devices) start(w wizard) []Job {
	d.from = w.screen()
	return d.load(w, "")
}

func (d *devices) tap(w wizard, id string) []Job {
	switch w.screen() {
	case ScreenDevices:
		if n, ok := strings.CutPrefix(id, IDRemoveDevice); ok {
			i, err := strconv.Atoi(n)
			if err == nil && i >= 0 && i < len(d.list) {
				d.remove = i
				w.goTo(ScreenRemoveDevice)
			}
			return nil
		}
		if id == IDBack {
			w.back("")
		}
	case ScreenRemoveDevice:
		switch id {
		case IDBack:
			w.goTo(ScreenDevices)
		case IDConfirm:
			return d.unlink(w)
		}
	}
	return nil
}

// load fetches the device list and shows it with note.
func (d *devices) load(w wizard, note string) []Job {
	w.busy("busy.devices")
	as := w.account()
	return []Job{w.job(func(ctx context.Context) reply {
		ds, err := as.Devices(ctx)
		return func(w wizard) []Job {
			if err != nil {
				return w.refused(err, d.from)
			}
			d.list, d.note = ds, note
			w.info("devices listed", "count", len(ds))
			w.goTo(ScreenDevices)
			return nil
		}
	})}
}

// unlink removes the chosen device and shows the list again. A device
// that is no longer the account's removes nothing, and the list says so.
func (d *devices) unlink(w wizard) []Job {
	devID := d.list[d.remove].ID
	w.busy("busy.remove_device")
	as := w.account()
	return []Job{w.job(func(ctx context.Context) reply {
		err := as.RemoveDevice(ctx, devID)
		return func(w wizard) []Job {
			switch {
			case err == nil:
				w.info("device removed")
				return d.load(w, "devices.removed")
			case errorKind(err) == KindNotRegistered:
				w.info("upstream refused", "step", string(ScreenRemoveDevice), "err_kind", "device_not_found")
				return d.load(w, "devices.not_found")
			}
			return w.refused(err, ScreenDevices)
		}
	})}
}

// taipei is the zone the device list's times are shown in.
var taipei = time.FixedZone("CST", 8*3600)

func (d *devices) page(w wizard, v *view) *display.Page {
	back := v.button(IDBack, "btn.back", display.Secondary)
	if w.screen() == ScreenRemoveDevice {
		name := lit("remove_device.name", d.list[d.remove].Name)
		name.Size = display.SizeTitle
		return &display.Page{
			ID:     string(ScreenRemoveDevice),
			Header: display.NewHeader("header", display.M("remove_device.title"), 0, 0),
			Body:   []display.Widget{label("remove_device.body", "remove_device.body"), name},
			Footer: []display.Widget{back, v.button(IDConfirm, "remove_device.confirm", display.Primary)},
		}
	}
	return &display.Page{
		ID:     string(ScreenDevices),
		Header: display.NewHeader("header", display.M("devices.title"), 0, 0),
		Body:   append(v.note(d.note), d.rows(v)...),
		Footer: []display.Widget{back},
	}
}

// rows lists the linked devices: name, when linked, last used, and a
// remove button each.
func (d *devices) rows(v *view) []display.Widget {
	if len(d.list) == 0 {
		return []display.Widget{label("devices.none", "devices.none")}
	}
	var out []display.Widget
	for i, dev := range d.list {
		n := strconv.Itoa(i)
		name := lit("device.name."+n, dev.Name)
		name.Size = display.SizeTitle
		at := display.NewLabel("device.when."+n, display.M("devices.when", "linked", when(dev.LinkedAt), "used", when(dev.LastUsed)))
		at.Muted = true
		out = append(out, name, at, v.button(IDRemoveDevice+n, "devices.remove", display.Secondary))
	}
	return out
}

func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(taipei).Format("2006-01-02 15:04")
}
