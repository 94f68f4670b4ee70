// Package ds3231 reads and sets a DS3231 real-time clock over I²C through
// periph.io: the battery-backed clock boards a Raspberry Pi kiosk may be
// fitted with, since the Pi has none of its own (issue 21).
//
// It only moves bytes: it keeps the time in UTC and 24-hour mode, reports
// a clock whose oscillator stopped (a flat or missing battery) as
// ErrStopped, and never decides whether a time is believable (package
// clock does).
package ds3231

import (
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/host/v3"
)

// Addr is the DS3231's fixed I²C address.
const Addr = 0x68

// Registers (DS3231 datasheet, figure 1 "timekeeping registers").
const (
	regSeconds = 0x00 // then minutes, hours, day, date, month/century, year
	regStatus  = 0x0f
)

// Bits.
const (
	hour12     = 1 << 6 // hours register: 12-hour mode
	hourPM     = 1 << 5 // in 12-hour mode: PM
	century    = 1 << 7 // month register: the year passed 99
	statusOSF  = 1 << 7 // oscillator stop flag: the time is not valid
	firstYear  = 2000
	lastYear   = 2199
	timeLength = 7
)

// ErrStopped reports that the clock's oscillator stopped since its time
// was last set (its battery ran flat or was missing): the time it holds
// means nothing until Write sets it again.
var ErrStopped = errors.New("ds3231: oscillator stopped, time not valid")

// Dev is a DS3231 on an I²C bus. It is not safe for concurrent use.
type Dev struct {
	d      i2c.Dev
	closer func() error
}

// New returns the DS3231 at Addr on bus.
func New(bus i2c.Bus) *Dev { return &Dev{d: i2c.Dev{Bus: bus, Addr: Addr}} }

// Open initialises periph.io's host drivers and opens the I²C bus named
// bus (periph.io's name, e.g. "1" or "I2C1" on a Raspberry Pi). Close
// releases the bus.
func Open(bus string) (*Dev, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("ds3231: init I²C drivers: %w", err)
	}
	b, err := i2creg.Open(bus)
	if err != nil {
		return nil, fmt.Errorf("ds3231: open I²C bus %q: %w", bus, err)
	}
	d := New(b)
	d.closer = b.Close
	return d, nil
}

// Close releases the bus if Open opened it.
func (d *Dev) Close() error {
	if d.closer == nil {
		return nil
	}
	return d.closer()
}

// Read returns the clock's time (UTC), or ErrStopped if its oscillator
// stopped since it was last set.
func (d *Dev) Read() (time.Time, error) {
	var st [1]byte
	if err := d.d.Tx([]byte{regStatus}, st[:]); err != nil {
		return time.Time{}, fmt.Errorf("ds3231: read status: %w", err)
	}
	if st[0]&statusOSF != 0 {
		return time.Time{}, ErrStopped
	}
	var r [timeLength]byte
	if err := d.d.Tx([]byte{regSeconds}, r[:]); err != nil {
		return time.Time{}, fmt.Errorf("ds3231: read time: %w", err)
	}
	return decode(r)
}

// Write sets the clock to t (kept in UTC, to the second) and clears the
// oscillator stop flag, keeping the status register's other bits.
func (d *Dev) Write(t time.Time) error {
	t = t.UTC()
	if t.Year() < firstYear || t.Year() > lastYear {
		return fmt.Errorf("ds3231: year %d outside %d–%d", t.Year(), firstYear, lastYear)
	}
	r := encode(t)
	if err := d.d.Tx(append([]byte{regSeconds}, r[:]...), nil); err != nil {
		return fmt.Errorf("ds3231: write time: %w", err)
	}
	var st [1]byte
	if err := d.d.Tx([]byte{regStatus}, st[:]); err != nil {
		return fmt.Errorf("ds3231: read status: %w", err)
	}
	if st[0]&statusOSF != 0 {
		if err := d.d.Tx([]byte{regStatus, st[0] &^ statusOSF}, nil); err != nil {
			return fmt.Errorf("ds3231: clear oscillator stop flag: %w", err)
		}
	}
	return nil
}

// decode reads the seven timekeeping registers.
func decode(r [timeLength]byte) (time.Time, error) {
	sec, min := bcd(r[0]&0x7f), bcd(r[1]&0x7f)
	var hour int
	if r[2]&hour12 != 0 {
		hour = bcd(r[2]&0x1f) % 12
		if r[2]&hourPM != 0 {
			hour += 12
		}
	} else {
		hour = bcd(r[2] & 0x3f)
	}
	day, month, year := bcd(r[4]&0x3f), bcd(r[5]&0x1f), firstYear+bcd(r[6])
	masked := [...]byte{r[0] & 0x7f, r[1] & 0x7f, r[2] & 0x3f, r[4] & 0x3f, r[5] & 0x1f, r[6]}
	for _, b := range masked {
		if b&0x0f > 9 || b>>4 > 9 {
			return time.Time{}, fmt.Errorf("ds3231: registers % x are not a valid time", r)
		}
	}
	if r[5]&century != 0 {
		year += 100
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, 0, time.UTC)
	if sec > 59 || min > 59 || hour > 23 || month < 1 || month > 12 || day < 1 || t.Day() != day {
		return time.Time{}, fmt.Errorf("ds3231: registers % x are not a valid time", r)
	}
	return t, nil
}

// encode writes t (UTC) into the seven timekeeping registers, 24-hour
// mode, day of the week 1 (Sunday) to 7.
func encode(t time.Time) [timeLength]byte {
	y := t.Year() - firstYear
	mc := toBCD(int(t.Month()))
	if y >= 100 {
		y -= 100
		mc |= century
	}
	return [timeLength]byte{toBCD(t.Second()), toBCD(t.Minute()), toBCD(t.Hour()),
		byte(t.Weekday()) + 1, toBCD(t.Day()), mc, toBCD(y)}
}

func bcd(b byte) int { return int(b>>4)*10 + int(b&0x0f) }

func toBCD(n int) byte { return byte(n/10)<<4 | byte(n%10) }
