package testenv

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// FreePorts returns n distinct TCP ports on 127.0.0.1 that were free a moment ago:
// each is bound at once (so the n differ) and released before FreePorts returns, for
// a kernel's connection file. Another process may take one in between; the tests that
// use them are the only listeners they start.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testenv: no free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// ConnectionFile writes conn, a kernel's connection file (a kernel.ConnectionInfo
// or a map of its members), as JSON to a file in a temporary folder of t, readable
// by the user only, and returns its path.
func ConnectionFile(t testing.TB, conn any) string {
	t.Helper()
	b, err := json.Marshal(conn)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "kernel.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}
