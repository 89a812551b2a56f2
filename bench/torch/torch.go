package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/gocvx/gocvx/bench/internal/refinstance"
	"github.com/gocvx/gocvx/internal/testenv"
	"github.com/gocvx/gocvx/solver"
)

// torchJob is the input of adam.py (see its docstring).
type torchJob struct {
	X         [][]float64 `json:"X"`
	Y         []float64   `json:"y"`
	U0        [][]float64 `json:"U0"`
	Alpha0    []float64   `json:"alpha0"`
	Loss      string      `json:"loss"`
	Beta      float64     `json:"beta"`
	LR        float64     `json:"lr"`
	Steps     int         `json:"steps"`
	TimeLimit float64     `json:"time_limit"`
	Target    *float64    `json:"target,omitempty"`
	Threads   int         `json:"threads"`
}

// torchResult is the output of adam.py.
type torchResult struct {
	Objective []float64   `json:"objective"`
	Elapsed   []float64   `json:"elapsed"`
	Steps     int         `json:"steps"`
	U         [][]float64 `json:"U"`
	Alpha     []float64   `json:"alpha"`
	Version   string      `json:"torch"`
	Threads   int         `json:"threads"`
}

// scriptPath returns the path of adam.py next to this source file.
func scriptPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "adam.py")
}

// runTorch runs full-batch Adam in PyTorch on prob from init; target ≤ 0 means none.
func runTorch(prob *solver.Problem, init *solver.Network, lr float64, steps int, limit time.Duration, target float64, threads int) (*torchResult, error) {
	job := torchJob{
		X: refinstance.Rows(prob.X), Y: prob.Y, U0: refinstance.Rows(init.U), Alpha0: init.Alpha,
		Loss: prob.Loss.String(), Beta: prob.Beta, LR: lr, Steps: steps,
		TimeLimit: limit.Seconds(), Threads: threads,
	}
	if target > 0 {
		job.Target = &target
	}
	in, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(testenv.Python, scriptPath())
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("adam.py: %v: %s", err, stderr.String())
	}
	var res torchResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("adam.py output: %v", err)
	}
	return &res, nil
}
