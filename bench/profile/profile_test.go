package main

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var inf = math.Inf(1)

// rec is a hand-made record: certified when secs is finite.
func rec(problem, method string, tol, secs, objective float64) *record {
	r := &record{Problem: problem, Method: method, Tolerance: tol, Threads: 1, Objective: num(objective), Weights: 640, Status: "time limit"}
	if !math.IsInf(secs, 1) {
		r.Certified, r.Seconds, r.Status = true, num(secs), "optimal"
	}
	return r
}

// handTable: four problems; ADMM certifies three to 1e-4 (0.05, 0.5, 20 s) and two
// to 1e-6; cvxopt was run on the first two only; Adam reached three.
func handTable() *table {
	ps := []string{"toy/squared/β=a", "toy/squared/β=b", "toy/squared/β=c", "toy/squared/β=d"}
	recs := []*record{
		rec("toy/squared/β=a", "admm", 1e-4, 0.05, 10), rec("toy/squared/β=a", "admm", 1e-6, 0.2, 10),
		rec("toy/squared/β=b", "admm", 1e-4, 0.5, 20), rec("toy/squared/β=b", "admm", 1e-6, inf, 20),
		rec("toy/squared/β=c", "admm", 1e-4, 20, 30), rec("toy/squared/β=c", "admm", 1e-6, 45, 30),
		rec("toy/squared/β=d", "admm", 1e-4, inf, 50), rec("toy/squared/β=d", "admm", 1e-6, inf, 50),
		rec("toy/squared/β=a", "cvxopt", 1e-4, 5, 10), rec("toy/squared/β=a", "cvxopt", 1e-6, 8, 10),
		rec("toy/squared/β=b", "cvxopt", 1e-4, 20, 19.999), rec("toy/squared/β=b", "cvxopt", 1e-6, 30, 19.9),
		rec("toy/squared/β=a", "adam", 0.01, 0.01, 10.05), rec("toy/squared/β=b", "adam", 0.01, 1, 20.1),
		rec("toy/squared/β=c", "adam", 0.01, 2, 30.2), rec("toy/squared/β=d", "adam", 0.01, inf, 60),
	}
	recs[0].SecondsGap1e2 = num(0.02)                     // a: 1e-2 after 0.02 s, Adam 0.01 s: ratio 2
	recs[2].SecondsGap1e2 = num(0.25)                     // b: 0.25 s against 1 s: 0.25
	recs[4].SecondsGap1e2 = num(1)                        // c: 1 s against 2 s: 0.5
	stale := rec("toy/squared/β=c", "admm", 1e-4, 99, 30) // an earlier measurement of c, overridden
	stale.Threads = 2                                     // and at another thread count
	return newTable(append([]*record{stale}, recs...), ps, []string{"admm", "cvxopt", "adam"}, []float64{1e-6, 1e-4}, 0.01, 1)
}

// TestProfileFractions checks the profile runs of a hand-made table: the time of
// every problem, +Inf where not certified or not run, and the fractions against time.
func TestProfileFractions(t *testing.T) {
	runs := handTable().profiles()
	want := []struct {
		method string
		tol    float64
		secs   []float64
	}{
		{"ADMM", 1e-4, []float64{0.05, 0.5, 20, inf}},
		{"ADMM", 1e-6, []float64{0.2, inf, 45, inf}},
		{"cvxopt", 1e-4, []float64{5, 20, inf, inf}},
		{"cvxopt", 1e-6, []float64{8, 30, inf, inf}},
		{"Adam (PyTorch), within 1 % of F*", 0.01, []float64{0.01, 1, 2, inf}},
	}
	if len(runs) != len(want) {
		t.Fatalf("%d runs, want %d", len(runs), len(want))
	}
	for i, w := range want {
		r := runs[i]
		if r.Method != w.method || r.Tolerance != w.tol {
			t.Errorf("run %d is %q at %g, want %q at %g", i, r.Method, r.Tolerance, w.method, w.tol)
		}
		for k, s := range w.secs {
			if r.Seconds[k] != s {
				t.Errorf("%s %g problem %d: %v s, want %v", w.method, w.tol, k, r.Seconds[k], s)
			}
		}
	}
	for _, c := range []struct {
		run     int
		t, want float64
	}{
		{0, 0.01, 0}, {0, 0.05, 0.25}, {0, 1, 0.5}, {0, 60, 0.75},
		{1, 60, 0.5}, {2, 10, 0.25}, {3, 60, 0.5}, {4, 1, 0.5},
	} {
		if got := runs[c.run].Fraction(c.t); got != c.want {
			t.Errorf("run %d (%s %g): fraction within %g s = %v, want %v", c.run, runs[c.run].Method, runs[c.run].Tolerance, c.t, got, c.want)
		}
	}
}

// TestRatios checks the speed-ups over cvxopt and the ratios against Adam, and their
// medians, against values worked out by hand.
func TestRatios(t *testing.T) {
	tb := handTable()
	sp := tb.ratios("cvxopt", 1e-4, "admm", 1e-4) // a: 5/0.05, b: 20/0.5
	if len(sp) != 2 || sp[0].value() != 100 || sp[1].value() != 40 {
		t.Errorf("speed-ups at 1e-4: %+v, want 100 and 40", sp)
	}
	// At 1e-6 ADMM did not certify b: a speed-up of 0 (worse than any), so the
	// median of {40, 0} is 20.
	if med, n := medianRatio(tb.ratios("cvxopt", 1e-6, "admm", 1e-6)); med != 20 || n != 2 {
		t.Errorf("median speed-up at 1e-6 = %v over %d, want 20 over 2", med, n)
	}
	var adam []ratio
	for _, p := range tb.problems {
		if g, a := tb.gapTo1e2(p, "admm"), tb.get(p, "adam", 0.01); g != nil && a != nil {
			adam = append(adam, ratio{problem: p, num: g.seconds(), den: a.seconds()})
		}
	}
	// a 2, b 0.25, c 0.5; d left out (neither reached).
	if med, n := medianRatio(adam); med != 0.5 || n != 3 {
		t.Errorf("median ratio to Adam = %v over %d, want 0.5 over 3", med, n)
	}
	for _, c := range []struct {
		r    ratio
		want float64
	}{
		{ratio{num: 3, den: 1.5}, 2}, {ratio{num: inf, den: 1}, inf}, {ratio{num: 1, den: inf}, 0},
	} {
		if got := c.r.value(); got != c.want {
			t.Errorf("%+v: value %v, want %v", c.r, got, c.want)
		}
	}
	if v := (ratio{num: inf, den: inf}).value(); !math.IsNaN(v) {
		t.Errorf("neither certified: value %v, want NaN", v)
	}
	if m := median([]float64{3, 1, inf, 2}); m != 2.5 {
		t.Errorf("median = %v, want 2.5", m)
	}
}

// TestSummary: the Markdown's grids give each problem's times and failures, and the
// certificate check flags ADMM's objective on b (20 certified to 1e-4, cvxopt's
// optimum 19.9).
func TestSummary(t *testing.T) {
	var buf bytes.Buffer
	handTable().write(&buf)
	out := buf.String()
	for _, want := range []string{
		"| ADMM | 1e-4 | 4 | 3 (75 %) | 25 % | 50 % | 50 % | 75 % |",
		"| cvxopt | 1e-4 | 2 | 2 (50 %) | 0 % | 0 % | 25 % | 50 % |",
		"| toy/squared | 0.050 / 0.20 s | 0.50 / ✗ ∞ tl | 20.0 / 45.0 s | ✗ ∞ tl |",
		"| toy/squared | 5.00 / 8.00 s | 20.0 / 30.0 s | · | · |",
		"ADMM, 1e-4: median speed-up 70.0× over 2 programs; at least 10× on 2",
		"ADMM: median ratio to certified 1e-2 0.50× (3 problems)",
		"3 certified solves compared with cvxopt's optimum at 1e-6; 1 contradicted",
		"toy/squared/β=b ADMM at 1e-4: objective 20 is 0.005 above cvxopt's 19.9",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

// TestRunOneProblem runs the harness end to end on the smallest problem of the grid
// (iris versicolor against virginica, squared loss, β = 1: 640 weights) with ADMM,
// and reads the records back from the results file.
func TestRunOneProblem(t *testing.T) {
	probs, err := problems([]string{"iris-1v2"}, []string{"squared"}, []string{"1"}, 64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 1 || probs[0].weights() != 2*probs[0].arr.Len()*5 {
		t.Fatalf("problems: %d, weights %d", len(probs), probs[0].weights())
	}
	out := filepath.Join(t.TempDir(), "r.jsonl")
	c := &config{methods: []string{"admm"}, tols: []float64{1e-4, 1e-6}, timeLimit: 30 * time.Second, threads: 1, seed: 1, out: out, within: 0.01}
	recs, err := measure(c, probs, nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := readRecords(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || len(back) != 2 {
		t.Fatalf("%d records measured, %d read back; want 2", len(recs), len(back))
	}
	for i, r := range back {
		if r.Problem != "iris-1v2/squared/β=1" || r.Method != "admm" || r.N != 100 || r.D != 5 || r.Route == "" {
			t.Errorf("record %d: %+v", i, r)
		}
		if !r.Certified || r.Gap == nil || *r.Gap > r.Tolerance || r.Seconds == nil {
			t.Errorf("record %d (tolerance %g): not certified: status %s, gap %v", i, r.Tolerance, r.Status, r.Gap)
		}
	}
	if back[0].Tolerance != 1e-4 || back[0].SecondsGap1e2 == nil || *back[0].SecondsGap1e2 > *back[0].Seconds {
		t.Errorf("first record: tolerance %g, time to 1e-2 %v (of %v)", back[0].Tolerance, back[0].SecondsGap1e2, back[0].Seconds)
	}
	// A rerun measures nothing.
	again, err := measure(c, probs, back)
	if err != nil {
		t.Fatal(err)
	}
	if more, _ := readRecords(out); len(again) != 2 || len(more) != 2 {
		t.Errorf("the rerun measured again: %d records, %d in the file", len(again), len(more))
	}
}

// TestBadInput: unknown data sets, losses and β are errors.
func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		data, loss, beta, want string
	}{
		{"iris", "squared", "1", "unknown data set"},
		{"iris-1-2", "squared", "1", "AvB"},
		{"mnist", "squared", "1", "unknown data set"},
		{"iris-1v2", "absolute", "1", "unknown loss"},
		{"iris-1v2", "squared", "-1", "positive"},
		{"iris-1v2", "squared", "xn", "multiple of n"},
	} {
		_, err := problems([]string{c.data}, []string{c.loss}, []string{c.beta}, 8, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s/%s/%s: error %v, want one containing %q", c.data, c.loss, c.beta, err, c.want)
		}
	}
	if b, err := parseBeta("0.02n", 250); err != nil || b != 5 {
		t.Errorf("0.02n at n = 250: %v, %v; want 5", b, err)
	}
}

// TestCPUClock: with cpu set, certified times are the records' CPU seconds (where
// they have one) and uncertified ones stay +Inf.
func TestCPUClock(t *testing.T) {
	tb := handTable()
	tb.get("toy/squared/β=a", "admm", 1e-4).CPU = 0.04
	tb.get("toy/squared/β=a", "cvxopt", 1e-4).CPU = 2
	tb.get("toy/squared/β=d", "admm", 1e-4).CPU = 60 // not certified
	tb.cpu = true
	runs := tb.profiles()
	if got := runs[0].Seconds; got[0] != 0.04 || got[1] != 0.5 || !math.IsInf(got[3], 1) {
		t.Errorf("ADMM 1e-4 on the CPU clock: %v, want [0.04 0.5 20 +Inf]", got)
	}
	if sp := tb.ratios("cvxopt", 1e-4, "admm", 1e-4); sp[0].value() != 50 {
		t.Errorf("CPU speed-up on a = %v, want 2/0.04 = 50", sp[0].value())
	}
}

// TestReuse copies the cvxopt and Adam records of the selected problems from an
// earlier file, once, and nothing else.
func TestReuse(t *testing.T) {
	probs, err := problems([]string{"iris-1v2"}, []string{"squared"}, []string{"1"}, 64, 1)
	if err != nil {
		t.Fatal(err)
	}
	id := probs[0].id
	dir := t.TempDir()
	old := filepath.Join(dir, "old.jsonl")
	app, err := openAppender(old)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*record{
		rec(id, "admm", 1e-4, 1, 2), rec(id, methodCvxopt, 1e-4, 10, 2), rec(id, methodAdam, 0.01, 3, 2.02),
		rec("iris-1v2/squared/β=1e-3", methodCvxopt, 1e-4, 9, 1), // not selected
	} {
		if err := app.write(r); err != nil {
			t.Fatal(err)
		}
	}
	app.close()
	c := &config{methods: []string{"default", methodCvxopt, methodAdam}, threads: 1, out: filepath.Join(dir, "new.jsonl"), reuse: old}
	for run := 0; run < 2; run++ {
		recs, err := readRecords(c.out)
		if err != nil {
			t.Fatal(err)
		}
		if recs, err = reuse(c, probs, recs); err != nil {
			t.Fatal(err)
		}
		back, err := readRecords(c.out)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || len(back) != 2 || back[0].Method != methodCvxopt || back[1].Method != methodAdam || back[0].Problem != id {
			t.Fatalf("run %d: %d records returned, file holds %+v; want the cvxopt and Adam records of %s once", run, len(recs), back, id)
		}
	}
}
