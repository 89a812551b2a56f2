package interp

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestPhysicalMemory checks that sysinfo(2) gives MemTotal of /proc/meminfo.
func TestPhysicalMemory(t *testing.T) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			if got := physicalMemory(); got != kb<<10 {
				t.Errorf("physicalMemory = %d, MemTotal is %d kB", got, kb)
			}
			return
		}
	}
	t.Fatal("no MemTotal in /proc/meminfo")
}
