package magic

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// canWatchReads: Linux tells, in /proc, which system call a process is
// blocked in and what its file descriptors are.
const canWatchReads = true

// pipeInode returns the inode of a pipe, as /proc/PID/fd links name it
// ("pipe:[INODE]").
func pipeInode(f *os.File) uint64 {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return 0
	}
	return st.Ino
}

// readSyscalls are the numbers of read(2) and readv(2) on this architecture.
var readSyscalls = map[string][]int{"amd64": {0, 19}, "386": {3, 145}, "arm64": {63, 65}, "arm": {3, 145}, "riscv64": {63, 65}, "ppc64le": {3, 145}, "s390x": {3, 145}, "loong64": {63, 65}}

// readingPipe reports whether a process of the group pgid is asleep in a
// read of the pipe with that inode.
func readingPipe(pgid int, inode uint64) bool {
	nums := readSyscalls[runtime.GOARCH]
	ents, err := os.ReadDir("/proc")
	if err != nil || inode == 0 {
		return false
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 || f[0] != "S" || f[2] != strconv.Itoa(pgid) {
			continue
		}
		sc, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid))
		if err != nil {
			continue
		}
		g := strings.Fields(string(sc))
		if len(g) < 2 {
			continue
		}
		num, err1 := strconv.Atoi(g[0])
		fd, err2 := strconv.ParseInt(strings.TrimPrefix(g[1], "0x"), 16, 64)
		if err1 != nil || err2 != nil || !contains(nums, num) {
			continue
		}
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
		if err == nil && link == fmt.Sprintf("pipe:[%d]", inode) {
			return true
		}
	}
	return false
}

func contains(list []int, n int) bool {
	for _, m := range list {
		if m == n {
			return true
		}
	}
	return false
}

// pipeEmpty reports whether the pipe holds no data (FIONREAD works on
// either end of a pipe).
func pipeEmpty(f *os.File) bool {
	var n int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	return errno == 0 && n == 0
}
