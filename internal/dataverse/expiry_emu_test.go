package dataverse_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
)

// clock is a settable time source for the emulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A deltaLink older than the retention period must surface as ErrRebaseline
// (never as an empty delta), whatever HTTP status carries code 0x80044352.
func TestEmuExpiredDeltaToken(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusGone} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			_, c := emuOrg(t, dvemu.Options{Records: 3, Now: clk.now, ExpiredTokenStatus: status, ExpireChangeTrackingInDays: 7}, nil)
			ctx := context.Background()
			e, err := c.Entity(ctx, "account")
			if err != nil {
				t.Fatal(err)
			}
			pages := readAll(t, c.NewChangesPager(e, nil))
			link := pages[len(pages)-1].DeltaLink

			clk.add(6 * 24 * time.Hour) // within retention: a normal delta
			fresh := readAll(t, c.NewChangesPager(e, &dataverse.ChangesOptions{Link: link}))
			if fresh[len(fresh)-1].DeltaLink == "" {
				t.Fatal("no fresh deltaLink")
			}

			clk.add(2 * 24 * time.Hour) // the first link is now 8 days old
			p := c.NewChangesPager(e, &dataverse.ChangesOptions{Link: link})
			page, err := p.NextPage(ctx)
			if !errors.Is(err, dataverse.ErrRebaseline) || !dataverse.IsRebaseline(err) {
				t.Fatalf("page %+v, err = %v; want ErrRebaseline", page, err)
			}
			var re *dataverse.ResponseError
			if !errors.As(err, &re) || re.Code != dataverse.CodeExpiredVersionStamp || re.StatusCode != status || re.Entity != "account" || re.Page != 1 {
				t.Errorf("response error = %+v", re)
			}
		})
	}
}
