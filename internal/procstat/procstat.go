// Package procstat reads a process's CPU time and memory, and the machine's
// CPU time, from Linux's /proc, for the benchmarks that report where a
// delivery's CPU and memory go across the gateway and its sink processes.
// Every reader returns 0 where there is no /proc or no such process.
package procstat

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clkTck is USER_HZ: /proc reports CPU time in these ticks on Linux.
const clkTck = 100

// CPU is process pid's user+system CPU time so far.
func CPU(pid int) time.Duration {
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	// utime and stime are the 14th and 15th fields of the line.
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clkTck
}

// Exited reports whether process pid, a child of this one, has exited
// and waits to be reaped (a zombie), without reaping it: whoever started
// it still gets its exit status from Wait. False where there is no /proc.
func Exited(pid int) bool {
	f := statFields(pid)
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}

// statFields reads /proc/<pid>/stat's fields after the command name
// (which may hold spaces), from the state on; nil when there is none.
func statFields(pid int) []string {
	if pid <= 0 {
		return nil
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(raw)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

// Memory is the field of /proc/<pid>/status named (such as "VmRSS" or
// "RssAnon"), in bytes.
func Memory(pid int, field string) int64 {
	if pid <= 0 {
		return 0
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				return 0
			}
			kb, _ := strconv.ParseInt(f[0], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Children lists the direct children of process pid (a gateway's sink
// processes), read from /proc/*/stat: any of the parent's threads may have
// started them, so /proc/<pid>/task/*/children would have to be walked too.
func Children(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, p := range stats {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces, so cut after ')'.
		s := string(raw)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid == pid && pid > 0 {
			child, _ := strconv.Atoi(strings.Fields(s)[0])
			out = append(out, child)
		}
	}
	return out
}

// Times is the machine's CPU time since boot, summed over its CPUs, from
// the first line of /proc/stat.
type Times struct {
	// Total is every state's time; Idle includes waiting for I/O; Steal
	// is the time a hypervisor ran something else while this machine had
	// work (a shared virtual machine's noise).
	Total, Idle, Steal time.Duration
}

// Machine reads the machine's Times; all zero where there is no /proc/stat.
func Machine() Times {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return Times{}
	}
	return parseMachine(string(b))
}

// parseMachine reads the "cpu" line: user nice system idle iowait irq
// softirq steal guest guest_nice, in clock ticks. guest and guest_nice are
// counted in user and nice already, so they are not added again.
func parseMachine(stat string) Times {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return Times{}
	}
	var v [8]int64
	for i := range v {
		v[i], _ = strconv.ParseInt(f[i+1], 10, 64)
	}
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / clkTck }
	var total int64
	for _, n := range v {
		total += n
	}
	return Times{Total: tick(total), Idle: tick(v[3] + v[4]), Steal: tick(v[7])}
}

// Since is the share of the CPUs' time from a to t that was idle and that
// was stolen, in percent; 0 and 0 when no time passed or there is no
// /proc/stat.
func (t Times) Since(a Times) (idle, stolen float64) {
	total := t.Total - a.Total
	if total <= 0 {
		return 0, 0
	}
	return 100 * float64(t.Idle-a.Idle) / float64(total), 100 * float64(t.Steal-a.Steal) / float64(total)
}
