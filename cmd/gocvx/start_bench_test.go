package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/gocvx/gocvx/internal/testenv"
)

// BenchmarkStart is a kernel's start as Jupyter starts it: `gocvx kernel -f FILE`
// in a process of its own (history in memory), a client that dials its shell port
// at once, a kernel_info_request and its reply, then a first trivial execute
// ("1 + 1") sent right after that reply, and its reply; then the process is
// killed. It reports, per start:
//
//	info-ms   start → kernel_info_reply
//	first-ms  start → the first execute's reply (the engine is built after the
//	          kernel_info reply, so this includes building it)
//	cpu-ms    the kernel process's CPU time (user + system, from its rusage) from
//	          exec until it is killed right after the first execute's reply,
//	          which the load of other processes does not inflate as it does
//	          the wall times
//
//	go test ./cmd/gocvx -run '^$' -bench Start -benchtime 20x
//
// GOCVX_BENCH_BINARY=PATH measures the gocvx binary at PATH instead of one built
// from this module (a build of another revision, or one kept for perf).
func BenchmarkStart(b *testing.B) {
	bin := os.Getenv("GOCVX_BENCH_BINARY")
	if bin == "" {
		bin = testenv.Gocvx(b)
	}
	var info, first, cpu time.Duration
	for range b.N {
		i, f, c := startOnce(b, bin)
		info += i
		first += f
		cpu += c
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(b.N) / 1e6 }
	b.ReportMetric(ms(info), "info-ms")
	b.ReportMetric(ms(first), "first-ms")
	b.ReportMetric(ms(cpu), "cpu-ms")
}

// startOnce starts the kernel bin once (see BenchmarkStart) and returns the
// times to the kernel_info reply and to the first execute's reply, and the
// process's CPU time.
func startOnce(b *testing.B, bin string) (info, first, cpu time.Duration) {
	conn := benchConnection(b)
	file := testenv.ConnectionFile(b, conn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "kernel", "-f", file)
	cmd.Env = append(os.Environ(), "GOCVX_HISTORY_FILE=")
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &client{key: []byte(conn.Key), session: "bench-start"}
	cctx, ccancel := context.WithCancel(context.Background())
	defer ccancel()
	// Dialing is retried every millisecond until the kernel listens.
	c.shell = zmq4.NewDealer(cctx, zmq4.WithID(zmq4.SocketIdentity("bench")),
		zmq4.WithDialerRetry(time.Millisecond), zmq4.WithDialerMaxRetries(10000))
	defer c.shell.Close()
	if err := c.shell.Dial(fmt.Sprintf("tcp://127.0.0.1:%d", conn.ShellPort)); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		b.Fatal(err)
	}
	c.reply(b, c.send(b, "kernel_info_request", map[string]any{}))
	info = time.Since(t0)
	r := c.reply(b, c.send(b, "execute_request", map[string]any{
		"code": "1 + 1", "silent": false, "store_history": true, "user_expressions": map[string]any{},
		"allow_stdin": false, "stop_on_error": true,
	}))
	first = time.Since(t0)
	cmd.Process.Kill()
	cmd.Wait()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var content struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(r.Content, &content); err != nil || content.Status != "ok" {
		b.Fatalf("first execute: %s", r.Content)
	}
	return info, first, cpu
}
