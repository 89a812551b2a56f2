package display

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"math"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocvx/gocvx/solver"
)

// fakeClock replaces the throttles' clock for the rest of the test; advance moves it.
func fakeClock(t *testing.T) (advance func(time.Duration)) {
	t.Helper()
	cur := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	saved := now
	now = func() time.Time { return cur }
	t.Cleanup(func() { now = saved })
	return func(d time.Duration) { cur = cur.Add(d) }
}

var imgSrc = regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`)

// pngWidthIn returns the pixel width of the first inline PNG of an HTML payload.
func pngWidthIn(t *testing.T, html string) int {
	t.Helper()
	m := imgSrc.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no inline PNG in %.200q", html)
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Width
}

func TestLiveThrottlesAndFinishes(t *testing.T) {
	sink := enterCell(t)
	advance := fakeClock(t)
	live := &Live{Label: "ADMM ρ = 1"}
	h := synthHistory(100, 0.95, 10*time.Millisecond, 0)
	for _, it := range h {
		live.Record(it)
		advance(10 * time.Millisecond)
	}
	ev := sink.all()
	// Iterations arrive every 10 ms for one second: the first is drawn at once, then
	// one frame each time 250 ms have passed (after 250, 500 and 750 ms).
	if len(ev) != 4 {
		t.Fatalf("published %d frames for 1 s of iterations at a 250 ms interval, want 4", len(ev))
	}
	id := ev[0].id
	if ev[0].kind != "display" || id == "" {
		t.Fatalf("first frame is %s with id %q, want a display with an id", ev[0].kind, id)
	}
	for i, e := range ev[1:] {
		if e.kind != "update" || e.id != id {
			t.Errorf("frame %d is %s of %q, want an update of %q", i+1, e.kind, e.id, id)
		}
	}
	if got := ev[3].data[MIMEText]; !strings.HasPrefix(got.(string), "ADMM ρ = 1: iteration 76 · objective ") {
		t.Errorf("last progress line = %q", got)
	}
	w, _ := (&Figure{}).cssSize()
	if got := pngWidthIn(t, ev[3].data[MIMEHTML].(string)); got != w {
		t.Errorf("live frame PNG is %d pixels wide, want %d (drawn at CSS resolution)", got, w)
	}

	res := &solver.Result{Method: "ADMM", Status: solver.Optimal, Objective: 12.5, Gap: 1e-6,
		Iterations: 100, Runtime: time.Second, History: h, ActiveNeurons: 12}
	live.Done(res)
	ev = sink.all()
	if len(ev) != 5 {
		t.Fatalf("Done published %d events, want 1", len(ev)-4)
	}
	last := ev[4]
	if last.kind != "update" || last.id != id {
		t.Fatalf("Done sent %s of %q, want an update of %q", last.kind, last.id, id)
	}
	if want := Render(res).Data[MIMEText]; last.data[MIMEText] != want {
		t.Errorf("final text = %q, want the result's %q", last.data[MIMEText], want)
	}
	html := last.data[MIMEHTML].(string)
	if !strings.Contains(html, "<table") || pngWidthIn(t, html) != pngPixels(w) {
		t.Errorf("final frame lacks the summary table or the full-resolution plot")
	}

	// The same Live records the next solve into a new display.
	live.Record(h[0])
	ev = sink.all()
	if len(ev) != 6 || ev[5].kind != "display" || ev[5].id == id {
		t.Errorf("after Done, Record published %s of %q, want a new display", ev[5].kind, ev[5].id)
	}
}

func TestLiveDoneWithoutResult(t *testing.T) {
	sink := enterCell(t)
	fakeClock(t)
	live := &Live{}
	for _, it := range synthHistory(5, 0.9, time.Millisecond, 0) {
		live.Record(it) // the clock stands still: only the first is drawn
	}
	live.Done(nil)
	ev := sink.all()
	if len(ev) != 2 {
		t.Fatalf("published %d events, want the first frame and the final one", len(ev))
	}
	if !strings.HasPrefix(ev[1].data[MIMEText].(string), "solve: iteration 5 ") || !strings.Contains(ev[1].data[MIMEText].(string), " · 512 patterns · ") {
		t.Errorf("final frame = %q, want the last iteration", ev[1].data[MIMEText])
	}
	w, _ := (&Figure{}).cssSize()
	if got := pngWidthIn(t, ev[1].data[MIMEHTML].(string)); got != pngPixels(w) {
		t.Errorf("final frame PNG is %d pixels wide, want %d", got, pngPixels(w))
	}
}

func TestLiveDoneWithoutRecords(t *testing.T) {
	sink := enterCell(t)
	live := &Live{}
	live.Done(nil)
	if ev := sink.all(); len(ev) != 0 {
		t.Fatalf("Done(nil) without records published %d events", len(ev))
	}
	live.Done(&solver.Result{Method: "SCP", Status: solver.Failure})
	ev := sink.all()
	if len(ev) != 1 || ev[0].kind != "display" || !strings.HasPrefix(ev[0].data[MIMEText].(string), "SCP: failure") {
		t.Fatalf("Done(result) without records published %+v, want the result as a new display", ev)
	}
}

func TestProgress(t *testing.T) {
	sink := enterCell(t)
	advance := fakeClock(t)
	bar := NewProgress("attacks", 10)
	for i := 0; i < 10; i++ {
		advance(100 * time.Millisecond)
		bar.Add(1)
	}
	bar.Done()
	bar.Add(1) // after Done: counted, not drawn
	ev := sink.all()
	// Shown at 0; redrawn after 300 ms (count 3) and 600 ms (count 6) and 900 ms
	// (count 9); at completion (count 10); by Done.
	var texts []string
	for _, e := range ev {
		texts = append(texts, e.data[MIMEText].(string))
	}
	want := []string{
		"attacks [------------------------------]   0% 0/10 · 0s",
		"attacks [#########---------------------]  30% 3/10 · 300ms, about 700ms left",
		"attacks [##################------------]  60% 6/10 · 600ms, about 400ms left",
		"attacks [###########################---]  90% 9/10 · 900ms, about 100ms left",
		"attacks [##############################] 100% 10/10 · 1s",
		"attacks [##############################] 100% 10/10 · 1s (done)",
	}
	if strings.Join(texts, "\n") != strings.Join(want, "\n") {
		t.Fatalf("frames:\n%s\nwant:\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	for i, e := range ev {
		if (i == 0) != (e.kind == "display") || e.id != ev[0].id {
			t.Errorf("frame %d is %s of %q", i, e.kind, e.id)
		}
	}
	if html := ev[5].data[MIMEHTML].(string); !strings.Contains(html, `<progress value="10" max="10"`) {
		t.Errorf("HTML lacks the progress element: %s", html)
	}
}

func TestProgressWithoutTotal(t *testing.T) {
	sink := enterCell(t)
	fakeClock(t)
	bar := &Progress{Label: "epochs"}
	bar.Set(7)
	bar.Done()
	ev := sink.all()
	if len(ev) != 2 || ev[1].data[MIMEText] != "epochs 7 · 0s (done)" {
		t.Fatalf("events %+v", ev)
	}
}

func TestProgressLineDualityGap(t *testing.T) {
	h := synthHistory(25, 0.9, time.Millisecond, 0)
	for i := range h {
		h[i].Gap = math.NaN()
	}
	got := progressLine("ADMM", h)
	want := "ADMM: iteration 25 · objective " + formatFloat(h[24].Objective) + " · duality gap " +
		formatGap(h[19].DualityGap) + " · 512 patterns · train accuracy " // the gap of iteration 20
	if !strings.HasPrefix(got, want) {
		t.Errorf("progress line = %q, want prefix %q", got, want)
	}
}

func TestProgressConcurrent(t *testing.T) {
	sink := enterCell(t)
	bar := NewProgress("work", 1000)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				bar.Add(1)
			}
		}()
	}
	wg.Wait()
	ev := sink.all()
	last := ev[len(ev)-1].data[MIMEText].(string)
	if !strings.Contains(last, "100% 1000/1000") {
		t.Errorf("after 4×250 concurrent Adds the bar shows %q", last)
	}
}
