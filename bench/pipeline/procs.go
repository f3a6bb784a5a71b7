package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat
// (100 on every Linux this runs on).
const clockTicks = 100

// cpuSeconds is the user + system CPU time of a process so far.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// comm may hold spaces; the fields after it start past the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	ut, err1 := strconv.ParseFloat(f[11], 64) // field 14 of stat
	st, err2 := strconv.ParseFloat(f[12], 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return (ut + st) / clockTicks, nil
}

// peakRSS is VmHWM, the process's peak resident set, in MiB.
func peakRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return 0, err
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
}

// proc is a child process with its output in a file.
type proc struct {
	name    string
	cmd     *exec.Cmd
	log     string
	done    chan error
	stopped sync.Once
}

func start(name, logPath string, env []string, bin string, args ...string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); f.Close() }()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// stop interrupts the process (a graceful shutdown) and kills it after 20 s.
func (p *proc) stop() {
	p.stopped.Do(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// alive reports an early exit with the tail of its log.
func (p *proc) alive() error {
	select {
	case err := <-p.done:
		p.done <- err
		b, _ := os.ReadFile(p.log)
		if len(b) > 2000 {
			b = b[len(b)-2000:]
		}
		return fmt.Errorf("%s exited (%v); last output:\n%s", p.name, err, b)
	default:
		return nil
	}
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitPort(ctx context.Context, port int, p *proc) error {
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if p != nil {
			if err := p.alive(); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for port %d: %w", port, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// azurite is a private Azurite instance started through scripts/azurite.sh,
// so that its CPU, memory and queue depth are this benchmark's alone.
type azurite struct {
	root, dir string
	ports     [3]int
	pid       int
}

func startAzurite(ctx context.Context, root, dir string) (*azurite, error) {
	// Free ports are picked, released and then bound by Azurite: another
	// process can take one in between. Try again with new ones.
	var err error
	for range 3 {
		var a *azurite
		if a, err = startAzuriteOnce(ctx, root, dir); err == nil {
			return a, nil
		}
	}
	return nil, err
}

func startAzuriteOnce(ctx context.Context, root, dir string) (*azurite, error) {
	a := &azurite{root: root, dir: dir}
	for i := range a.ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		a.ports[i] = p
	}
	if err := a.script(ctx, "start"); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "pid"))
	if err != nil {
		return nil, fmt.Errorf("azurite pid: %w", err)
	}
	if a.pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
		return nil, fmt.Errorf("azurite pid: %w", err)
	}
	return a, nil
}

func (a *azurite) script(ctx context.Context, verb string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(a.root, "scripts", "azurite.sh"), verb)
	cmd.Dir = a.root
	cmd.Env = append(os.Environ(), fmt.Sprintf("AZURITE_PORTS=%d %d %d", a.ports[0], a.ports[1], a.ports[2]), "AZURITE_DIR="+a.dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("scripts/azurite.sh %s: %w\n%s", verb, err, out)
	}
	return nil
}

func (a *azurite) stop() { _ = a.script(context.Background(), "stop") }

// connString is the well-known Azurite account on this instance's ports.
func (a *azurite) connString() string {
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"+
		"BlobEndpoint=http://127.0.0.1:%d/devstoreaccount1;QueueEndpoint=http://127.0.0.1:%d/devstoreaccount1;TableEndpoint=http://127.0.0.1:%d/devstoreaccount1;",
		a.ports[0], a.ports[1], a.ports[2])
}

// cpuMeter takes CPU time deltas of a fixed set of processes and of a
// changing set (database backends), sampling the latter so that a process
// that exits between samples still counts up to its last sample.
type cpuMeter struct {
	mu    sync.Mutex
	first map[int]float64
	last  map[int]float64
}

func newCPUMeter() *cpuMeter { return &cpuMeter{first: map[int]float64{}, last: map[int]float64{}} }

// sample records the CPU time of pids; a pid seen for the first time after
// the meter started counts from zero when fresh is set (a backend born
// during the run), else from now.
func (m *cpuMeter) sample(pids []int, fresh bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, pid := range pids {
		s, err := cpuSeconds(pid)
		if err != nil {
			continue
		}
		if _, ok := m.first[pid]; !ok {
			if fresh {
				m.first[pid] = 0
			} else {
				m.first[pid] = s
			}
		}
		m.last[pid] = s
	}
}

func (m *cpuMeter) total() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := 0.0
	for pid, l := range m.last {
		t += l - m.first[pid]
	}
	return t
}

// postgresPIDs lists every process named postgres on the machine (the
// server is shared: this includes others' backends and its own workers).
func postgresPIDs() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err == nil && strings.TrimSpace(string(b)) == "postgres" {
			out = append(out, pid)
		}
	}
	return out
}

// tail returns the last n bytes of a file.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}
