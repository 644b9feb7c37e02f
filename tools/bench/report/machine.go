package main

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machineFacts describe where the benchmarks ran (read once, so that tests can set them).
type machineFacts struct {
	now                   time.Time
	cpu, threads, memory  string
	os, kernel, goVersion string
	loadNow               string
	cpus                  int
}

func thisMachine() machineFacts {
	return machineFacts{
		now: time.Now(), cpu: cpuModel(), threads: threadsPerCore(), memory: memTotal(),
		os: runtime.GOOS + " " + runtime.GOARCH, kernel: kernel(), goVersion: runtime.Version(),
		loadNow: loadNow(), cpus: runtime.NumCPU(),
	}
}

func cpuModel() string {
	for _, line := range strings.Split(readText("/proc/cpuinfo"), "\n") {
		if strings.HasPrefix(line, "model name") {
			if i := strings.IndexByte(line, ':'); i >= 0 {
				return strings.TrimSpace(line[i+1:])
			}
		}
	}
	return "unknown CPU"
}

func threadsPerCore() string {
	out := readText("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list")
	if out == "" {
		return "topology unknown"
	}
	if strings.ContainsAny(out, ",-") {
		return "hyper-threads share cores"
	}
	return "one thread per core as the guest sees it"
}

func memTotal() string {
	for _, line := range strings.Split(readText("/proc/meminfo"), "\n") {
		if strings.HasPrefix(line, "MemTotal:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return fmt.Sprintf("%.1f GiB", kb/1024/1024)
			}
		}
	}
	return "unknown"
}

func kernel() string {
	if k := readText("/proc/sys/kernel/osrelease"); k != "" {
		return k
	}
	return "unknown"
}

func loadNow() string {
	f := strings.Fields(readText("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
