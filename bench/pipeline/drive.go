package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
)

// driver changes source rows through the emulator's admin API at a steady
// rate, each change writing a marker (phase and sequence) into a string
// column, and then finds when each marker was applied: the destination's
// SinkModifiedOn of the row (set as the sink starts the transaction that
// writes it, so the figure leaves out that transaction's own few
// milliseconds).
type driver struct {
	org    string
	client *http.Client
	ids    map[string][]string // unchanged rows left, shuffled
}

func newDriver(ctx context.Context, org string) (*driver, error) {
	d := &driver{org: org, ids: map[string][]string{}}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	d.client = &http.Client{Transport: t, Timeout: 30 * time.Second}
	r := rand.New(rand.NewPCG(1, 2))
	for _, ent := range entities {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, org+"/_emulator/entities/"+ent, nil)
		resp, err := d.client.Do(req)
		if err != nil {
			return nil, err
		}
		var body struct{ IDs []string }
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("emulator ids of %s: %w", ent, err)
		}
		r.Shuffle(len(body.IDs), func(i, j int) { body.IDs[i], body.IDs[j] = body.IDs[j], body.IDs[i] })
		d.ids[ent] = body.IDs
	}
	return d, nil
}

type deltaResult struct {
	rate               int
	changes            int
	achieved           float64
	p50, p95, p99, max time.Duration
	early, late        time.Duration // p50 of the first and last fifth of the changes
	drain              time.Duration // from the last change sent until every one is applied
	maxQueue           int32
	applied            bool // every change arrived within the wait
}

// bounded: the backlog cleared within a few polls of the last change and
// the delay did not grow over the phase.
func (d deltaResult) bounded() bool {
	return d.applied && d.drain <= 5*time.Second && d.late <= d.early+2*time.Second
}

type change struct {
	entity, id, marker string
	sent               time.Time
}

// workers is how many changes may be in flight at once.
const workers = 32

func (d *driver) phase(ctx context.Context, dest destination, qc *azqueue.QueueClient, rate int, length time.Duration) (deltaResult, error) {
	res := deltaResult{rate: rate}
	total := int(float64(rate) * length.Seconds())
	prefix := fmt.Sprintf("b%d-", rate)
	changes := make([]change, 0, total)
	for i := range total {
		ent := entities[i%len(entities)]
		if len(d.ids[ent]) == 0 {
			return res, fmt.Errorf("no unchanged %s left for %d changes", ent, total)
		}
		id := d.ids[ent][0]
		d.ids[ent] = d.ids[ent][1:] // every change of the benchmark touches another row
		changes = append(changes, change{entity: ent, id: strings.ToLower(id), marker: fmt.Sprintf("%s%d", prefix, i)})
	}

	// Queue depth, sampled while the phase runs.
	stopDepth := make(chan struct{})
	depthDone := make(chan struct{})
	go func() {
		defer close(depthDone)
		for {
			if p, err := qc.GetProperties(ctx, nil); err == nil && p.ApproximateMessagesCount != nil {
				res.maxQueue = max(res.maxQueue, *p.ApproximateMessagesCount)
			}
			select {
			case <-stopDepth:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()

	jobs := make(chan int, workers)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				c := &changes[i]
				c.sent = time.Now()
				if err := d.patch(ctx, c); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
	start := time.Now()
	next := 0
	tick := time.NewTicker(5 * time.Millisecond)
pace:
	for next < total {
		select {
		case <-ctx.Done():
			break pace
		case err := <-errs:
			close(jobs)
			return res, err
		case <-tick.C:
		}
		due := min(total, int(float64(rate)*time.Since(start).Seconds()))
		for ; next < due; next++ {
			jobs <- next // blocks when the workers cannot keep up: the achieved rate says so
		}
	}
	tick.Stop()
	close(jobs)
	wg.Wait()
	lastSent := time.Now()
	res.changes = total
	res.achieved = float64(total) / lastSent.Sub(start).Seconds()
	select {
	case err := <-errs:
		return res, err
	default:
	}

	// Wait until every marker is in the destination.
	sentAt := map[string]change{}
	for _, c := range changes {
		sentAt[c.entity+"/"+c.id] = c
	}
	applied := map[string]time.Time{}
	waitUntil := lastSent.Add(2*time.Minute + length)
	for len(applied) < total && time.Now().Before(waitUntil) && ctx.Err() == nil {
		for _, ent := range entities {
			got, err := dest.markers(ctx, ent, markerColumn[ent], prefix)
			if err != nil {
				return res, err
			}
			for id, m := range got {
				k := ent + "/" + id
				if c, ok := sentAt[k]; ok && m.value == c.marker {
					if _, seen := applied[k]; !seen {
						applied[k] = m.modified
					}
				}
			}
		}
		if len(applied) < total {
			time.Sleep(100 * time.Millisecond)
		}
	}
	res.drain = time.Since(lastSent)
	close(stopDepth)
	<-depthDone
	res.applied = len(applied) == total
	if !res.applied {
		res.drain = -1
	}
	// Delays by send order, for the early and late medians.
	sort.Slice(changes, func(i, j int) bool { return changes[i].sent.Before(changes[j].sent) })
	var all []time.Duration
	delays := make([]time.Duration, 0, total)
	for _, c := range changes {
		at, ok := applied[c.entity+"/"+c.id]
		if !ok {
			continue
		}
		delays = append(delays, at.Sub(c.sent))
	}
	all = slices.Clone(delays)
	slices.Sort(all)
	if len(all) > 0 {
		res.p50, res.p95, res.p99, res.max = pct(all, 50), pct(all, 95), pct(all, 99), all[len(all)-1]
		fifth := max(1, len(delays)/5)
		res.early = median(delays[:fifth])
		res.late = median(delays[len(delays)-fifth:])
	}
	return res, nil
}

func (d *driver) patch(ctx context.Context, c *change) error {
	body, _ := json.Marshal(map[string]string{markerColumn[c.entity]: c.marker})
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, d.org+"/_emulator/entities/"+c.entity+"/"+c.id, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("PATCH %s %s: %s", c.entity, c.id, resp.Status)
	}
	return nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func queueClient(conn, name string) (*azqueue.QueueClient, error) {
	svc, err := azqueue.NewServiceClientFromConnectionString(conn, nil)
	if err != nil {
		return nil, err
	}
	return svc.NewQueueClient(name), nil
}
