package interp

import "syscall"

// physicalMemory returns the machine's memory (MemTotal of /proc/meminfo), or
// 0. sysinfo(2) gives it in about 2 µs; reading /proc/meminfo took 0.1 ms of
// every kernel's start.
func physicalMemory() int64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}
