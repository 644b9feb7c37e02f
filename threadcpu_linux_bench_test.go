//go:build linux

package aadhostlogincorrelation

import (
	"syscall"
	"time"
	"unsafe"
)

// threadCPU returns the CPU time of the calling OS thread (clock_gettime(CLOCK_THREAD_CPUTIME_ID)):
// with the goroutine locked to its thread, the part of a latency spent running rather than waiting
// for a CPU that other jobs hold.
func threadCPU() (time.Duration, bool) {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
