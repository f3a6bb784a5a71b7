// Package funchost is a standalone stand-in for the Azure Functions host, for
// machines where Core Tools cannot run: it reads the same function.json and
// host.json files, fires timer triggers on their NCRONTAB schedules and hands
// Storage queue messages to queue-triggered functions, by POSTing the host's
// invocation JSON to the custom handler. What runs locally is therefore the
// handler code that runs in Azure, over the same protocol.
package funchost

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Binding is one entry of a function.json "bindings" array.
type Binding struct {
	Name         string `json:"name"`
	Type         string `json:"type"`
	Direction    string `json:"direction"`
	Schedule     string `json:"schedule"`
	RunOnStartup bool   `json:"runOnStartup"`
	QueueName    string `json:"queueName"`
	Connection   string `json:"connection"`
	// HTTP triggers.
	AuthLevel string   `json:"authLevel"`
	Methods   []string `json:"methods"`
	Route     string   `json:"route"`
}

// Function is one function folder: its name (the folder name) and bindings.
type Function struct {
	Name     string
	Bindings []Binding
}

// Trigger returns the function's trigger binding.
func (f Function) Trigger() (Binding, bool) {
	for _, b := range f.Bindings {
		if b.Direction == "in" && strings.HasSuffix(b.Type, "Trigger") {
			return b, true
		}
	}
	return Binding{}, false
}

// LoadFunctions reads every <dir>/<Name>/function.json.
func LoadFunctions(dir string) ([]Function, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*", "function.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no function.json under %s", dir)
	}
	sort.Strings(paths)
	var out []Function
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var f struct {
			Bindings []Binding `json:"bindings"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		fn := Function{Name: filepath.Base(filepath.Dir(p)), Bindings: f.Bindings}
		if _, ok := fn.Trigger(); !ok {
			return nil, fmt.Errorf("%s: no trigger binding", p)
		}
		out = append(out, fn)
	}
	return out, nil
}

// HostConfig is the part of host.json the standalone host honours.
type HostConfig struct {
	FunctionTimeout time.Duration
	Queues          QueueConfig
	// RoutePrefix is extensions.http.routePrefix (default "api").
	RoutePrefix string
}

// QueueConfig mirrors host.json extensions.queues.
type QueueConfig struct {
	// BatchSize messages are received at once and handed over
	// concurrently; another batch is received when the deliveries in
	// flight drop to NewBatchThreshold, so at most BatchSize +
	// NewBatchThreshold run at once (the Functions host's rule).
	BatchSize          int
	NewBatchThreshold  int
	MaxDequeueCount    int64
	VisibilityTimeout  time.Duration
	MaxPollingInterval time.Duration
}

// DefaultHostConfig has the Functions defaults (queues: batch 16, a new
// batch at 8 in flight, 5 dequeues, visibility 0, polling at most every
// minute; timeout 10 min).
func DefaultHostConfig() HostConfig {
	return HostConfig{
		FunctionTimeout: 10 * time.Minute,
		Queues:          QueueConfig{BatchSize: 16, NewBatchThreshold: 8, MaxDequeueCount: 5, MaxPollingInterval: time.Minute},
		RoutePrefix:     "api",
	}
}

// LoadHostJSON reads host.json; missing values keep their defaults.
func LoadHostJSON(path string) (HostConfig, error) {
	c := DefaultHostConfig()
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	var h struct {
		FunctionTimeout string `json:"functionTimeout"`
		Extensions      struct {
			HTTP struct {
				RoutePrefix *string `json:"routePrefix"`
			} `json:"http"`
			Queues struct {
				BatchSize          *int   `json:"batchSize"`
				NewBatchThreshold  *int   `json:"newBatchThreshold"`
				MaxDequeueCount    *int64 `json:"maxDequeueCount"`
				VisibilityTimeout  string `json:"visibilityTimeout"`
				MaxPollingInterval string `json:"maxPollingInterval"`
			} `json:"queues"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	if rp := h.Extensions.HTTP.RoutePrefix; rp != nil {
		c.RoutePrefix = strings.Trim(*rp, "/")
	}
	q := h.Extensions.Queues
	if q.BatchSize != nil {
		c.Queues.BatchSize = *q.BatchSize
		// The host's default threshold is half the batch (per core; the
		// standalone host counts one).
		c.Queues.NewBatchThreshold = *q.BatchSize / 2
	}
	if q.NewBatchThreshold != nil {
		c.Queues.NewBatchThreshold = *q.NewBatchThreshold
	}
	if q.MaxDequeueCount != nil {
		c.Queues.MaxDequeueCount = *q.MaxDequeueCount
	}
	for _, f := range []struct {
		s   string
		dst *time.Duration
	}{{h.FunctionTimeout, &c.FunctionTimeout}, {q.VisibilityTimeout, &c.Queues.VisibilityTimeout}, {q.MaxPollingInterval, &c.Queues.MaxPollingInterval}} {
		if f.s == "" {
			continue
		}
		d, err := parseTimeSpan(f.s)
		if err != nil {
			return c, fmt.Errorf("%s: %w", path, err)
		}
		*f.dst = d
	}
	return c, nil
}

// parseTimeSpan reads a .NET TimeSpan "hh:mm:ss[.fff]" (or "d.hh:mm:ss").
func parseTimeSpan(s string) (time.Duration, error) {
	var days, h, m int
	var sec float64
	rest := s
	if i := strings.IndexByte(rest, '.'); i >= 0 && i < strings.IndexByte(rest, ':') {
		if _, err := fmt.Sscanf(rest[:i], "%d", &days); err != nil {
			return 0, fmt.Errorf("bad time span %q", s)
		}
		rest = rest[i+1:]
	}
	if _, err := fmt.Sscanf(rest, "%d:%d:%g", &h, &m, &sec); err != nil {
		return 0, fmt.Errorf("bad time span %q", s)
	}
	return time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec*float64(time.Second)), nil
}
