//go:build !linux

package aadhostlogincorrelation

import "time"

// threadCPU is not measured off Linux.
func threadCPU() (time.Duration, bool) { return 0, false }

// threadSched is not measured off Linux.
func threadSched() (run, wait time.Duration, ok bool) { return 0, 0, false }
