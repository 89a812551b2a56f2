package interp

import (
	"runtime/debug"
	"testing"
)

// TestGCPace checks the percent gcPace sets for a live heap, that a heap of
// more than the headroom gets Go's default, that a value set by someone else
// is left alone, and that restore gives back the value it found.
func TestGCPace(t *testing.T) {
	t.Setenv("GOGC", "")
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)

	p := newGCPace(-1)
	for _, c := range []struct {
		live uint64
		want int
	}{
		{8 << 20, 800},   // 64 MiB of headroom over 8 MiB live
		{16 << 20, 400},  //
		{128 << 20, 100}, // more than the headroom live: Go's default
	} {
		p.tick(c.live)
		if got := debug.SetGCPercent(c.want); got != c.want {
			t.Errorf("live %d MiB: GOGC = %d, want %d", c.live>>20, got, c.want)
		}
	}
	p.restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after restore: GOGC = %d, want 100", got)
	}

	// A ceiling of 256 MiB lowers the headroom to 32 MiB.
	p = newGCPace(256 << 20)
	p.tick(8 << 20)
	if got := debug.SetGCPercent(400); got != 400 {
		t.Errorf("ceiling 256 MiB, live 8 MiB: GOGC = %d, want 400", got)
	}
	// A cell sets its own: gcPace leaves it, and restore too.
	debug.SetGCPercent(50)
	p.tick(4 << 20)
	if got := debug.SetGCPercent(50); got != 50 {
		t.Errorf("after a cell set 50: GOGC = %d", got)
	}
	p.restore()
	if got := debug.SetGCPercent(100); got != 50 {
		t.Errorf("restore replaced the cell's GOGC: %d, want 50", got)
	}

	// GOGC set by someone else before the session: not managed.
	debug.SetGCPercent(300)
	p = newGCPace(-1)
	p.tick(8 << 20)
	if got := debug.SetGCPercent(100); got != 300 {
		t.Errorf("GOGC set before the session: %d, want 300 kept", got)
	}
}
