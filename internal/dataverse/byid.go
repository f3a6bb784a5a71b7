package dataverse

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/dataexport/dataexport/internal/record"
)

// CurrentRecords are rows asked for by id, as the source holds them now.
type CurrentRecords struct {
	Columns []record.Column // the columns of Fields(e), as in ChangesPage
	Records []record.Record // the rows that exist, in no particular order; Values aligned with Columns
	Missing []string        // requested ids the source no longer has: deleted there
	// UntypedLookups counts polymorphic lookup values that came without a
	// target type annotation; their _entitytype column is left null.
	UntypedLookups int
	// UnnamedLookups counts lookup values whose name helper columns stay
	// null (no FormattedValue annotation came).
	UnnamedLookups int
}

// skiptokenReserve is the room a nextLink's $skiptoken (a paging cookie of
// about 350 characters) may add to a request URL.
const skiptokenReserve = 1024

// RecordsByID reads the current rows of ids, with the same columns,
// values and versions as a change page, and reports the ids the source no
// longer has. ids are GUIDs in any case; duplicates are read once. The ids
// go in $filter=Microsoft.Dynamics.CRM.In(...) requests of at most
// ClientOptions.MaxURLLength characters and ClientOptions.PageSize ids
// each, sent one after the other
// under the client's rate limit, retries and throttling handling. It is
// meant for a few thousand ids (resyncing failed records): the answer is
// held in memory.
func (c *Client) RecordsByID(ctx context.Context, e *Entity, ids []string) (*CurrentRecords, error) {
	if e.EntitySetName == "" || e.PrimaryIDAttribute == "" {
		return nil, fmt.Errorf("dataverse: entity %s lacks EntitySetName or PrimaryIdAttribute", e.LogicalName)
	}
	want := make(map[string]bool, len(ids))
	unique := make([]string, 0, len(ids))
	for _, raw := range ids {
		u, err := uuid.Parse(raw)
		if err != nil || len(raw) != 36 {
			return nil, fmt.Errorf("dataverse: %s: id %q is not a GUID", e.LogicalName, raw)
		}
		id := u.String()
		if !want[id] {
			want[id] = true
			unique = append(unique, id)
		}
	}
	plan := newRowPlan(e, Fields(e))
	out := &CurrentRecords{Columns: plan.cols}
	if len(unique) == 0 {
		return out, nil
	}
	dec := newPageDecoder(plan)
	prefix := c.base + url.PathEscape(e.EntitySetName) + "?$select=" + strings.Join(Select(Fields(e)), ",") + "&$filter="
	head := "Microsoft.Dynamics.CRM.In(PropertyName='" + e.PrimaryIDAttribute + "',PropertyValues=["
	const tail = "])"
	fixed := len(prefix) + len(url.QueryEscape(head)) + len(url.QueryEscape(tail))
	perID := len(url.QueryEscape("'" + unique[0] + "',"))
	// A chunk fits one page, so no nextLink (the filter again plus a
	// paging cookie) can outgrow the limit; room is kept for one anyway.
	n := min((c.opts.MaxURLLength-fixed-skiptokenReserve)/perID, c.opts.PageSize)
	if n < 1 {
		return nil, fmt.Errorf("dataverse: %s: a read by id needs a URL of %d characters, over MaxURLLength %d (too many columns)", e.LogicalName, fixed+perID+skiptokenReserve, c.opts.MaxURLLength)
	}
	found := make(map[string]bool, len(unique))
	pageNo := 0
	for start := 0; start < len(unique); start += n {
		chunk := unique[start:min(start+n, len(unique))]
		var list strings.Builder
		for i, id := range chunk {
			if i > 0 {
				list.WriteByte(',')
			}
			list.WriteString("'" + id + "'")
		}
		target := prefix + url.QueryEscape(head+list.String()+tail)
		for target != "" {
			pageNo++
			page, env, _, err := c.fetchPage(ctx, plan, dec, request{url: target, prefer: c.prefer(false, plan), entity: e.LogicalName, page: pageNo})
			if err != nil {
				return nil, err
			}
			if len(page.Deletes) > 0 {
				return nil, &MalformedError{Entity: e.LogicalName, Page: pageNo, Reason: "a deleted entry in a read by id"}
			}
			for _, r := range page.Upserts {
				if !want[r.ID] {
					return nil, &MalformedError{Entity: e.LogicalName, Page: pageNo, Reason: fmt.Sprintf("row %s was not asked for", r.ID)}
				}
				if !found[r.ID] {
					found[r.ID] = true
					out.Records = append(out.Records, r)
				}
			}
			out.UntypedLookups += page.UntypedLookups
			out.UnnamedLookups += page.UnnamedLookups
			target = ""
			if env.nextLink != "" {
				if target, err = c.resolve(env.nextLink); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, id := range unique {
		if !found[id] {
			out.Missing = append(out.Missing, id)
		}
	}
	return out, nil
}
