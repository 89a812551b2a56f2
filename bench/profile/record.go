package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// record is one line of the results file: one solve of one problem by one method to
// one tolerance (for Adam: to within a relative distance of the certified optimum).
type record struct {
	Problem   string  `json:"problem"` // data/loss/β, e.g. "iris-1v2/hinge/β=1e-3"
	Data      string  `json:"data"`
	Loss      string  `json:"loss"`
	BetaLabel string  `json:"beta_label"` // as in the grid: "1e-3" or "0.02n"
	Beta      float64 `json:"beta"`
	N         int     `json:"n"`
	D         int     `json:"d"`        // with the bias column
	Patterns  int     `json:"patterns"` // P, distinct sampled patterns
	Weights   int     `json:"weights"`  // 2·P·d
	Method    string  `json:"method"`   // the method's name in -methods
	// Route is what ran: the Result's Method (and factorization) for the Go methods,
	// so the default method's choice is on record.
	Route     string  `json:"route,omitempty"`
	Tolerance float64 `json:"tolerance"`
	// Certified: the method ended Optimal with a certified relative gap ≤ Tolerance
	// (cvxopt: status "optimal" at reltol = Tolerance; Adam: objective ≤ (1 +
	// Tolerance)·F*).
	Certified bool `json:"certified"`
	// Seconds is the wall time until then (the whole Solve call; cvxopt's own solve
	// time; Adam's training time at its best learning rate), null when not certified.
	Seconds   *float64 `json:"seconds"`
	Status    string   `json:"status"`
	Objective *float64 `json:"objective,omitempty"`
	// Gap is the final certified relative gap (null when infinite: no dual bound);
	// ConeViolation the Certificate's.
	Gap           *float64 `json:"gap,omitempty"`
	ConeViolation *float64 `json:"cone_violation,omitempty"`
	Iterations    int      `json:"iterations,omitempty"`
	Runtime       float64  `json:"runtime"` // seconds the call took, certified or not
	// CPU is the CPU time (user + system, all threads) of the call: of this process
	// for the Go methods, of cvxopt's solve as it reports it; steadier than wall time
	// on a shared machine.
	CPU     float64 `json:"cpu,omitempty"`
	Neurons int     `json:"neurons,omitempty"`
	// SecondsGap1e2 is, on the loosest tolerance's solve, the elapsed time of the
	// first iteration whose certified duality gap (History's DualityGap) was ≤ 1e-2.
	SecondsGap1e2 *float64 `json:"seconds_gap_1e-2,omitempty"`
	Message       string   `json:"message,omitempty"`

	// Adam: the width, the optimum F* it had to approach and the target (1 + tol)·F*,
	// the best learning rate and the time of every one tried (null: not reached).
	Width     int                 `json:"width,omitempty"`
	Optimum   float64             `json:"optimum,omitempty"`
	Target    float64             `json:"target,omitempty"`
	LR        float64             `json:"lr,omitempty"`
	LRSeconds map[string]*float64 `json:"lr_seconds,omitempty"`
	// ProcessSeconds is cvxopt's whole process (Python start, problem set-up, solve).
	ProcessSeconds float64 `json:"process_seconds,omitempty"`

	TimeLimit     float64  `json:"time_limit"`               // seconds
	MaxIterations int      `json:"max_iterations,omitempty"` // 0: the method's default
	Threads       int      `json:"threads"`
	Load          *float64 `json:"load"` // one-minute load average at the start of the solve
	Date          string   `json:"date"`
}

// key identifies a measurement for resuming: the same problem, method, tolerance and
// thread count is not measured twice.
func (r *record) key() string {
	return fmt.Sprintf("%s|%s|%g|%d", r.Problem, r.Method, r.Tolerance, r.Threads)
}

func recordKey(problem, method string, tol float64, threads int) string {
	return fmt.Sprintf("%s|%s|%g|%d", problem, method, tol, threads)
}

// seconds returns the certified time, +Inf when there is none.
func (r *record) seconds() float64 {
	if r == nil || !r.Certified || r.Seconds == nil {
		return math.Inf(1)
	}
	return *r.Seconds
}

// num returns &v for finite v and nil otherwise (JSON has no Inf or NaN).
func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// readRecords reads a results file; a missing file has no records.
func readRecords(path string) ([]*record, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		out = append(out, &r)
	}
	return out, sc.Err()
}

// appender appends records to the results file, one JSON line each, synced, so an
// interrupted run loses at most the solve in progress.
type appender struct{ f *os.File }

func openAppender(path string) (*appender, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	return &appender{f}, nil
}

func (a *appender) write(r *record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := a.f.Write(append(data, '\n')); err != nil {
		return err
	}
	return a.f.Sync()
}

func (a *appender) close() error { return a.f.Close() }

// cpuSeconds returns the CPU time (user + system) of this process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// loadAverage returns the one-minute load average (NaN where /proc is missing).
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return math.NaN()
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return math.NaN()
	}
	return v
}
