package wire

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestISODate checks ISODate against time.Format with Jupyter's layout, on edge
// cases and on instants spread over the years 0 to 9999, in UTC and elsewhere.
func TestISODate(t *testing.T) {
	const layout = "2006-01-02T15:04:05.000000Z07:00"
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	times := []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 12, 7, 7, 50, 0, 123456789, time.UTC),
		time.Date(2026, 1, 1, 2, 0, 0, 999, zone), // the day before in UTC
		time.Now(),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	lo, hi := times[0].Unix(), times[1].Unix()
	for range 10000 {
		times = append(times, time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9)).In(zone))
	}
	for _, tm := range times {
		if got, want := ISODate(tm), tm.UTC().Format(layout); got != want {
			t.Fatalf("ISODate(%v) = %s, want %s", tm, got, want)
		}
	}
}
