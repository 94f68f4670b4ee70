package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// sysPaths are where the kernel tells the kiosk about the machine; tests
// point them at files of their own.
type sysPaths struct {
	Thermal string // e.g. /sys/class/thermal/thermal_zone0/temp
	LoadAvg string // /proc/loadavg
	MemInfo string // /proc/meminfo
}

var realSysPaths = sysPaths{
	Thermal: "/sys/class/thermal/thermal_zone0/temp",
	LoadAvg: "/proc/loadavg",
	MemInfo: "/proc/meminfo",
}

// maxSysFile bounds what is read of one /proc or /sys file.
const maxSysFile = 64 << 10

func readSys(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, maxSysFile)
	n, err := f.Read(b)
	if n == 0 && err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return b[:n], nil
}

// parseThermal parses a thermal zone's temp file (millidegrees Celsius).
func parseThermal(b []byte) (float64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse temperature: %w", err)
	}
	c := float64(v) / 1000
	if c < -60 || c > 200 {
		return 0, fmt.Errorf("parse temperature: %v °C is not plausible", c)
	}
	return c, nil
}

// parseLoadAvg returns the one-minute load from /proc/loadavg.
func parseLoadAvg(b []byte) (float64, error) {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, errors.New("parse loadavg: empty")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || v < 0 || v != v || v > 1e6 {
		return 0, fmt.Errorf("parse loadavg: %q is not a load", f[0])
	}
	return v, nil
}

// parseMemInfo returns used memory in percent of total from
// /proc/meminfo (MemTotal less MemAvailable).
func parseMemInfo(b []byte) (float64, error) {
	var total, avail int64 = -1, -1
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 {
			continue
		}
		switch k {
		case "MemTotal":
			total = n
		case "MemAvailable":
			avail = n
		}
	}
	if total <= 0 || avail < 0 || avail > total {
		return 0, errors.New("parse meminfo: no plausible MemTotal and MemAvailable")
	}
	return 100 * float64(total-avail) / float64(total), nil
}

// diskFree returns free bytes and percent on dir's filesystem.
func diskFree(dir string) (free uint64, pct float64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	if st.Blocks == 0 {
		return 0, 0, fmt.Errorf("statfs %s: no blocks", dir)
	}
	return st.Bavail * uint64(st.Bsize), 100 * float64(st.Bavail) / float64(st.Blocks), nil
}

// diskWritable writes, syncs and removes a small file in dir.
func diskWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("disk check: %w", err)
	}
	f, err := os.CreateTemp(dir, ".selftest-*")
	if err != nil {
		return fmt.Errorf("disk check: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write([]byte("self-test\n"))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("disk check %s: %w", filepath.Base(f.Name()), err)
	}
	return nil
}
