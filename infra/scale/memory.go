package scale

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memWatch samples the resident memory of a process and its descendants, and reads their peak (VmHWM,
// the kernel's high-water mark) when stopped. Linux only: elsewhere it finds nothing and says so.
type memWatch struct {
	pid  int
	stop chan struct{}
	done sync.WaitGroup

	mu   sync.Mutex
	peak int64 // the largest sampled sum of VmRSS, in bytes
	hwm  int64 // the sum of VmHWM at the last sample, in bytes
}

func watchMemory(pid int, every time.Duration) *memWatch {
	m := &memWatch{pid: pid, stop: make(chan struct{})}
	if pid <= 0 {
		return m
	}
	m.done.Add(1)
	go func() {
		defer m.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			m.sample()
			select {
			case <-t.C:
			case <-m.stop:
				return
			}
		}
	}()
	return m
}

func (m *memWatch) sample() {
	var rss, hwm int64
	for _, p := range append([]int{m.pid}, descendants(m.pid)...) {
		st := procStatus(p)
		rss += st["VmRSS"]
		hwm += st["VmHWM"]
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.peak = max(m.peak, rss)
	if hwm > 0 {
		m.hwm = hwm
	}
}

// Stop ends the sampling (take the last sample first, while the process lives) and returns the peak of
// VmHWM and of the sampled RSS, in bytes.
func (m *memWatch) Stop() (hwm, sampled int64) {
	if m.pid > 0 {
		m.sample()
		close(m.stop)
		m.done.Wait()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hwm, m.peak
}

// procStatus reads the Vm* lines of /proc/<pid>/status, in bytes.
func procStatus(pid int) map[string]int64 {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasPrefix(k, "Vm") {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 2 && fields[1] == "kB" {
			if n, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
				out[k] = n << 10
			}
		}
	}
	return out
}

// children lists the processes whose parent is pid.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			if f := strings.Fields(s[i+1:]); len(f) > 1 && f[1] == strconv.Itoa(pid) {
				out = append(out, p)
			}
		}
	}
	return out
}

func descendants(pid int) []int {
	var out []int
	for _, c := range children(pid) {
		out = append(out, c)
		out = append(out, descendants(c)...)
	}
	return out
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }
