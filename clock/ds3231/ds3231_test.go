package ds3231

import (
	"errors"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

// TestRead plays back the bus traffic of reading a DS3231 holding
// 2026-11-30 14:05:09 (a Monday), in 24-hour and 12-hour mode, and in the
// next century.
func TestRead(t *testing.T) {
	tests := []struct {
		name string
		regs []byte
		want time.Time
	}{
		{"24h", []byte{0x09, 0x05, 0x14, 0x02, 0x30, 0x11, 0x26}, time.Date(2026, 11, 30, 14, 5, 9, 0, time.UTC)},
		{"12h pm", []byte{0x09, 0x05, hour12 | hourPM | 0x02, 0x02, 0x30, 0x11, 0x26}, time.Date(2026, 11, 30, 14, 5, 9, 0, time.UTC)},
		{"12h midnight", []byte{0x00, 0x00, hour12 | 0x12, 0x02, 0x01, 0x01, 0x27}, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"12h noon", []byte{0x00, 0x00, hour12 | hourPM | 0x12, 0x02, 0x01, 0x01, 0x27}, time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC)},
		{"century", []byte{0x59, 0x59, 0x23, 0x07, 0x31, century | 0x12, 0x01}, time.Date(2101, 12, 31, 23, 59, 59, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{
				{Addr: Addr, W: []byte{regStatus}, R: []byte{0x08}}, // EN32kHz on, OSF clear
				{Addr: Addr, W: []byte{regSeconds}, R: tt.regs},
			}}
			got, err := New(bus).Read()
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("Read = %v, want %v", got, tt.want)
			}
			if err := bus.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestReadStopped: a clock whose oscillator stopped (flat battery) is
// not read at all.
func TestReadStopped(t *testing.T) {
	bus := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{
		{Addr: Addr, W: []byte{regStatus}, R: []byte{statusOSF | 0x08}},
	}}
	if _, err := New(bus).Read(); !errors.Is(err, ErrStopped) {
		t.Fatalf("Read = %v, want ErrStopped", err)
	}
	if err := bus.Close(); err != nil {
		t.Error(err)
	}
}

// TestReadGarbage: registers that are no time (not BCD, 31 February,
// hour 25) are an error, not a time.
func TestReadGarbage(t *testing.T) {
	for name, regs := range map[string][]byte{
		"not bcd":     {0x0a, 0x05, 0x14, 0x02, 0x30, 0x11, 0x26},
		"31 february": {0x00, 0x00, 0x00, 0x02, 0x31, 0x02, 0x26},
		"hour 25":     {0x00, 0x00, 0x25, 0x02, 0x01, 0x02, 0x26},
		"month 0":     {0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x26},
	} {
		t.Run(name, func(t *testing.T) {
			bus := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{
				{Addr: Addr, W: []byte{regStatus}, R: []byte{0}},
				{Addr: Addr, W: []byte{regSeconds}, R: regs},
			}}
			if got, err := New(bus).Read(); err == nil {
				t.Errorf("Read = %v, want an error", got)
			}
		})
	}
}

// TestWrite checks the bytes written for a time (given in Taipei time,
// kept in UTC), and that a set oscillator stop flag is cleared keeping
// the status register's other bits.
func TestWrite(t *testing.T) {
	taipei := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 12, 1, 6, 7, 8, 900_000_000, taipei) // 2026-11-30 22:07:08 UTC, a Monday
	regs := []byte{regSeconds, 0x08, 0x07, 0x22, 0x02, 0x30, 0x11, 0x26}
	t.Run("flag clear", func(t *testing.T) {
		bus := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{
			{Addr: Addr, W: regs},
			{Addr: Addr, W: []byte{regStatus}, R: []byte{0x08}},
		}}
		if err := New(bus).Write(at); err != nil {
			t.Fatal(err)
		}
		if err := bus.Close(); err != nil {
			t.Error(err)
		}
	})
	t.Run("flag set", func(t *testing.T) {
		bus := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{
			{Addr: Addr, W: regs},
			{Addr: Addr, W: []byte{regStatus}, R: []byte{statusOSF | 0x08 | 0x01}},
			{Addr: Addr, W: []byte{regStatus, 0x08 | 0x01}},
		}}
		if err := New(bus).Write(at); err != nil {
			t.Fatal(err)
		}
		if err := bus.Close(); err != nil {
			t.Error(err)
		}
	})
	t.Run("out of range", func(t *testing.T) {
		bus := &i2ctest.Playback{DontPanic: true}
		if err := New(bus).Write(time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
			t.Error("Write(1999) succeeded")
		}
	})
}

// TestRoundTrip writes times to a recorded bus and reads the recorded
// registers back.
func TestRoundTrip(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 2, 28, 23, 59, 59, 0, time.UTC),
		time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2199, 12, 31, 12, 30, 0, 0, time.UTC),
	} {
		r := encode(at)
		got, err := decode(r)
		if err != nil || !got.Equal(at) {
			t.Errorf("decode(encode(%v)) = %v, %v", at, got, err)
		}
		if wd := int(r[3]); wd != int(at.Weekday())+1 {
			t.Errorf("encode(%v) day of week %d, want %d", at, wd, int(at.Weekday())+1)
		}
	}
}

// FuzzDecode: any register contents decode into a time of the chip's
// range that encodes back to the same clock reading, or into an error.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0x09, 0x05, 0x14, 0x02, 0x30, 0x11, 0x26})
	f.Add([]byte{0x00, 0x00, hour12 | 0x12, 0x02, 0x01, 0x01, 0x27})
	f.Add([]byte{0x59, 0x59, 0x23, 0x07, 0x31, century | 0x12, 0x99})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r [timeLength]byte
		copy(r[:], b)
		got, err := decode(r)
		if err != nil {
			return
		}
		if got.Year() < firstYear || got.Year() > lastYear {
			t.Fatalf("decode(% x) = %v, outside the chip's years", r, got)
		}
		if again, err := decode(encode(got)); err != nil || !again.Equal(got) {
			t.Fatalf("decode(encode(%v)) = %v, %v", got, again, err)
		}
	})
}
