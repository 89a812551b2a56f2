// Command session measures what a process that serves many kernels in a row keeps:
// it serves the gocvx kernel (the real cell engine) in this process on one connection
// file, lets session.py (jupyter_client) run a cell and send shutdown_request
// {restart: true} each time, serves again on the same ports, and reports goroutines,
// open file descriptors and live heap after each Serve returns.
//
// With -engine N it also runs the cells of session.py's long session N times on the
// cell engine alone (no kernel, no sockets) and reports the engine's live heap, which
// tells the engine's share of the kernel's memory growth.
//
// usage: go run ./bench/session [-cycles 50] [-engine 2000]
// (bench/session/run.sh runs it after the long-session and restart measurements.)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/internal/testenv"
	"github.com/gocvx/gocvx/interp"
	"github.com/gocvx/gocvx/kernel"
)

func main() {
	cycles := flag.Int("cycles", 50, "Serve cycles")
	engine := flag.Int("engine", 0, "executes on the cell engine alone (0: none)")
	python := flag.String("python", "/usr/bin/python3", "Python with jupyter_client")
	flag.Parse()
	if *cycles > 0 {
		if err := run(*cycles, *python); err != nil {
			log.Fatal(err)
		}
	}
	if *engine > 0 {
		if *cycles > 0 {
			fmt.Println()
		}
		if err := engineAlone(*engine); err != nil {
			log.Fatal(err)
		}
	}
}

// cells are session.py's rotation of small cells.
var cells = []string{
	"import \"fmt\"\nx := make([]float64, 1000)\nfor i := range x {\n\tx[i] = float64(i)\n}\nfmt.Println(len(x))",
	"s := 0.0\nfor _, v := range x {\n\ts += v\n}\ns",
	"func double(n int) int { return 2 * n }\ndouble(21)",
}

// discard is a cell's output that keeps nothing.
type discard struct{}

func (discard) Stream(name, text string)                    {}
func (discard) Display(b cellio.Bundle, id string, up bool) {}
func (discard) Clear(wait bool)                             {}

func engineAlone(n int) error {
	s, err := interp.New(interp.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Printf("cell engine alone: %d executes of the same rotation of cells in one interp.Session\n", n)
	fmt.Printf("%8s %10s\n", "executes", "heap MB")
	var first float64
	for i := 1; i <= n; i++ {
		o := s.Execute(context.Background(), cellio.Cell{Code: cells[(i-1)%len(cells)], Number: i, Output: discard{}})
		if o.Error != nil {
			return fmt.Errorf("execute %d: %v", i, o.Error)
		}
		if i == 100 || i%500 == 0 || i == n {
			h := heapMB()
			if i == 100 {
				first = h
			}
			fmt.Printf("%8d %10.1f\n", i, h)
		}
	}
	fmt.Printf("live heap growth from execute 100 to %d: %.1f MB (%.1f KB per execute)\n",
		n, heapMB()-first, (heapMB()-first)*1024/float64(n-100))
	return nil
}

func openFiles() int {
	fds, _ := os.ReadDir("/proc/self/fd")
	return len(fds)
}

func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

func run(cycles int, python string) error {
	p, err := testenv.FreePorts(5)
	if err != nil {
		return err
	}
	conn := kernel.ConnectionInfo{
		Transport: "tcp", IP: "127.0.0.1", ShellPort: p[0], IOPubPort: p[1], StdinPort: p[2],
		ControlPort: p[3], HBPort: p[4], SignatureScheme: "hmac-sha256", Key: "bench-session-key",
	}
	dir, err := os.MkdirTemp("", "gocvx-session-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "kernel.json")
	b, _ := json.Marshal(conn)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		return err
	}
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "session.py")
	client := exec.Command(python, script, "cycles", "--connection-file", file, "--n", fmt.Sprint(cycles))
	client.Stdout, client.Stderr = os.Stderr, os.Stderr

	// The client retries until the first kernel listens; started first, so that the
	// descriptor the process holds for its child counts in "before".
	if err := client.Start(); err != nil {
		return err
	}
	fmt.Printf("in-process Serve cycles: %d kernels served one after the other in one process (real cell engine),\n", cycles)
	fmt.Println("each running a cell and stopped by shutdown_request {restart: true} from jupyter_client")
	fmt.Printf("%8s %11s %6s %10s\n", "cycle", "goroutines", "fds", "heap MB")
	fmt.Printf("%8s %11d %6d %10.1f\n", "before", runtime.NumGoroutine(), openFiles(), heapMB())
	var first [3]float64
	for i := 1; i <= cycles; i++ {
		k := &kernel.Kernel{
			NewEngine: func() (kernel.Engine, error) { return interp.New(interp.Options{}) },
			Log:       log.New(os.Stderr, "kernel: ", 0),
		}
		done := make(chan error, 1)
		go func() { done <- k.Serve(context.Background(), conn) }()
		select {
		case err := <-done:
			if !errors.Is(err, kernel.ErrShutdown) {
				return fmt.Errorf("cycle %d: Serve returned %v", i, err)
			}
		case <-time.After(2 * time.Minute):
			return fmt.Errorf("cycle %d: no shutdown_request within 2 minutes", i)
		}
		time.Sleep(50 * time.Millisecond) // let closing connections finish
		g, f, h := runtime.NumGoroutine(), openFiles(), heapMB()
		if i == 1 {
			first = [3]float64{float64(g), float64(f), h}
		}
		if i <= 3 || i%10 == 0 || i == cycles {
			fmt.Printf("%8d %11d %6d %10.1f\n", i, g, f, h)
		}
		if i == cycles {
			fmt.Printf("growth from cycle 1 to %d: %+d goroutines, %+d fds, %+.1f MB heap\n",
				cycles, g-int(first[0]), f-int(first[1]), h-first[2])
		}
	}
	return client.Wait()
}
