package sink

import (
	"context"
	"errors"

	"github.com/dataexport/dataexport/internal/errclass"
)

// FailedAt locates a record-class write error at one change of the
// Prepared a write was given: Deletes[Index] when Delete, else
// Upserts[Index]. The changes before it were accepted by the same statement
// before it failed (a COPY reports the line it stopped at), so Isolate
// writes them again at once and looks for further bad records only after
// it. It is a hint: a wrong one costs round trips, never a record.
type FailedAt struct {
	Delete bool
	Index  int
	Err    error
}

func (e *FailedAt) Error() string { return e.Err.Error() }
func (e *FailedAt) Unwrap() error { return e.Err }

// maxGuided bounds the FailedAt-guided splits of one Isolate: each retries
// what follows the bad record, so many bad records would cost a pass each;
// bisection then takes over, O(log n) round trips per bad record.
const maxGuided = 4

// Isolate writes p through write, one transaction per call. When a write
// fails with a record-class error (errclass.Record), the changes are split
// (at the change a FailedAt names, else in halves) and each part written
// again, until every good change is written and each bad one, alone, is
// rejected with its own error. Any other error ends Isolate with that
// error: parts written before it stay written, which is harmless because
// writes are idempotent. Changes are ordered deletes first, then upserts.
// The Result has Upserted, Deleted and Rejected; Skipped is the caller's.
func Isolate(ctx context.Context, p Prepared, write func(context.Context, Prepared) (Result, error)) (Result, error) {
	is := isolation{write: write}
	err := is.run(ctx, p)
	return is.res, err
}

type isolation struct {
	write  func(context.Context, Prepared) (Result, error)
	res    Result
	guided int
}

func (is *isolation) run(ctx context.Context, p Prepared) error {
	n := len(p.Deletes) + len(p.Upserts)
	if n == 0 {
		return nil
	}
	r, err := is.write(ctx, p)
	if err == nil {
		is.res.Upserted += r.Upserted
		is.res.Deleted += r.Deleted
		is.res.Rejected = append(is.res.Rejected, r.Rejected...)
		return nil
	}
	if errclass.Of(err) != errclass.Record {
		return err
	}
	if n == 1 {
		rej := Rejection{Err: err, Class: errclass.Record}
		if len(p.Deletes) == 1 {
			rej.ID, rej.Version, rej.Delete = p.Deletes[0].ID, p.Deletes[0].Version, true
		} else {
			rej.ID, rej.Version = p.Upserts[0].ID, p.Upserts[0].Version
		}
		is.res.Rejected = append(is.res.Rejected, rej)
		return nil
	}
	var at *FailedAt
	if errors.As(err, &at) && is.guided < maxGuided {
		k := at.Index
		if !at.Delete {
			k += len(p.Deletes)
		}
		if 0 <= k && k < n && (at.Delete == (k < len(p.Deletes))) {
			is.guided++
			return is.parts(ctx, slice(p, 0, k), slice(p, k, k+1), slice(p, k+1, n))
		}
	}
	return is.parts(ctx, slice(p, 0, n/2), slice(p, n/2, n))
}

func (is *isolation) parts(ctx context.Context, parts ...Prepared) error {
	for _, q := range parts {
		if err := is.run(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// slice is the changes [from, to) of p, deletes first, then upserts.
func slice(p Prepared, from, to int) Prepared {
	d := len(p.Deletes)
	q := p
	q.Rejected = nil
	q.Deletes = p.Deletes[min(from, d):min(to, d)]
	q.Upserts = p.Upserts[max(from, d)-d : max(to, d)-d]
	return q
}
