package sntp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/clock/sntp"
	"github.com/nhikiosk/nhikiosk/clock/sntp/sntptest"
)

// pivot is an image build time for the tests.
var pivot = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// TestQuery asks a real UDP server on loopback whose clock is a fixed
// time in 2031 (ours may be anything): the answer is that time plus at
// most the round trip.
func TestQuery(t *testing.T) {
	theirs := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	start := time.Now()
	s := sntptest.NewServer(t, func() time.Time { return theirs.Add(time.Since(start)) })
	a, err := sntp.Query(context.Background(), s.Addr(), pivot)
	if err != nil {
		t.Fatal(err)
	}
	want := theirs.Add(time.Since(start))
	if d := a.Time.Sub(want); d < -time.Second || d > time.Second {
		t.Errorf("Query time = %v, want %v (±1 s)", a.Time, want)
	}
	if a.Stratum != 2 || a.RTT < 0 {
		t.Errorf("Query = stratum %d, RTT %v; want stratum 2 and a round trip", a.Stratum, a.RTT)
	}
}

// TestQueryFaults checks that every answer a server should not send is
// refused, and that a forged answer before the real one is skipped.
func TestQueryFaults(t *testing.T) {
	now := func() time.Time { return time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC) }
	tests := []struct {
		fault sntptest.Fault
		want  error // nil: the query succeeds
	}{
		{sntptest.None, nil},
		{sntptest.WrongThenGood, nil},
		{sntptest.Kiss, sntp.ErrKissOfDeath},
		{sntptest.Unsynced, sntp.ErrUnsynchronised},
		{sntptest.ClientMode, sntp.ErrBadAnswer},
		{sntptest.HeldTooLong, sntp.ErrBadAnswer},
		{sntptest.TransmitZero, sntp.ErrBadAnswer},
		{sntptest.WrongOrigin, context.DeadlineExceeded}, // skipped, then nothing
		{sntptest.ShortPacket, context.DeadlineExceeded}, // not our answer: skipped
		{sntptest.Silent, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(faultName(tt.fault), func(t *testing.T) {
			s := sntptest.NewServer(t, now)
			s.SetFault(tt.fault)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			a, err := sntp.Query(ctx, s.Addr(), pivot)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Query: %v", err)
				}
				if d := a.Time.Sub(now()); d < 0 || d > time.Second {
					t.Errorf("Query time = %v, want %v", a.Time, now())
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Query error = %v, want %v", err, tt.want)
			}
		})
	}
}

func faultName(f sntptest.Fault) string {
	return [...]string{"none", "silent", "kiss", "unsynced", "wrong-origin", "client-mode", "short",
		"held-too-long", "wrong-then-good", "transmit-zero"}[f]
}

// TestQueryUnreachable: nothing listens; the query fails within its
// context instead of hanging.
func TestQueryUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := sntp.Query(ctx, "127.0.0.1:9", pivot); err == nil {
		t.Fatal("Query of a closed port succeeded")
	}
}

// TestTimeEras places timestamps in the era nearest the pivot: after
// 2036 the seconds wrap, and a pivot in 2026 still reads 2040 right.
func TestTimeEras(t *testing.T) {
	for _, want := range []time.Time{
		time.Date(2026, 11, 30, 12, 0, 0, 500_000_000, time.UTC),
		time.Date(2036, 2, 7, 6, 28, 15, 0, time.UTC), // the last second of era 0
		time.Date(2036, 2, 7, 6, 28, 16, 0, time.UTC), // the first of era 1
		time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		got := sntp.Time(sntptest.Stamp(want), pivot)
		if d := got.Sub(want); d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("Time(Stamp(%v)) = %v", want, got)
		}
	}
}

// TestParseChecks runs Parse over hand-made answers.
func TestParseChecks(t *testing.T) {
	at := time.Date(2027, 3, 4, 5, 6, 7, 0, time.UTC)
	const nonce = 0x1122334455667788
	good := sntptest.Answer(nonce, at, at.Add(time.Millisecond), sntptest.None)
	if _, err := sntp.Parse(good, nonce); err != nil {
		t.Fatalf("Parse(good): %v", err)
	}
	if _, err := sntp.Parse(good, nonce+1); !errors.Is(err, sntp.ErrBadAnswer) {
		t.Errorf("Parse with another nonce: %v, want ErrBadAnswer", err)
	}
	v2 := append([]byte(nil), good...)
	v2[0] = 2<<3 | 4
	if _, err := sntp.Parse(v2, nonce); !errors.Is(err, sntp.ErrBadAnswer) {
		t.Errorf("Parse(version 2): %v, want ErrBadAnswer", err)
	}
	s16 := append([]byte(nil), good...)
	s16[1] = 16
	if _, err := sntp.Parse(s16, nonce); !errors.Is(err, sntp.ErrBadAnswer) {
		t.Errorf("Parse(stratum 16): %v, want ErrBadAnswer", err)
	}
	back := sntptest.Answer(nonce, at, at.Add(-time.Second), sntptest.None)
	if _, err := sntp.Parse(back, nonce); !errors.Is(err, sntp.ErrBadAnswer) {
		t.Errorf("Parse(transmit before receive): %v, want ErrBadAnswer", err)
	}
}

// FuzzParse: any bytes from the network either parse into a packet that
// passed every check or fail with ErrBadAnswer; nothing panics.
func FuzzParse(f *testing.F) {
	at := time.Date(2027, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, fl := range []sntptest.Fault{sntptest.None, sntptest.Kiss, sntptest.Unsynced, sntptest.ShortPacket, sntptest.HeldTooLong} {
		f.Add(sntptest.Answer(42, at, at, fl), uint64(42))
	}
	f.Fuzz(func(t *testing.T, b []byte, nonce uint64) {
		p, err := sntp.Parse(b, nonce)
		if err != nil {
			if !errors.Is(err, sntp.ErrBadAnswer) {
				t.Fatalf("Parse error %v does not wrap ErrBadAnswer", err)
			}
			return
		}
		if p.Mode != 4 || p.Origin != nonce || p.Stratum == 0 || p.Stratum > 15 || p.Transmit == 0 {
			t.Fatalf("Parse accepted %+v", p)
		}
		_ = sntp.Time(p.Transmit, pivot)
	})
}
