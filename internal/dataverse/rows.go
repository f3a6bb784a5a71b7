package dataverse

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// RowsOptions says what a rows read returns and where it starts.
type RowsOptions struct {
	// AfterVersion, when positive, reads only the rows whose versionnumber
	// is greater (changed since then); 0 reads every row.
	AfterVersion int64
	// Link is a stored ChangesPage.NextLink of the same read to resume
	// from; "" starts it.
	Link string
}

// RowsPager reads the current rows of an entity without change tracking
// (a plain query), every column of Fields(e) plus versionnumber, a page of
// at most ClientOptions.PageSize rows at a time: a backfill reads with it
// the rows a column added in Dataverse must be filled in, at their own
// version. Pages are ChangesPages without deletes or a DeltaLink; rows and
// values decode exactly as in change pages. Memory stays that of one page.
//
// The read asks for $filter=versionnumber gt <AfterVersion> (when set) and
// $orderby=<primary id>, so that paging is deterministic; rows changed
// while it pages may come twice or in a later delta, which the version
// guard makes harmless.
//
// It is not safe for concurrent use; pages stay valid after the next call.
type RowsPager struct {
	c      *Client
	e      *Entity
	plan   *rowPlan
	dec    *pageDecoder
	after  int64
	link   string // next request; "" before the first
	done   bool
	pageNo int
}

// NewRowsPager starts (or resumes, with o.Link) a rows read of e.
func (c *Client) NewRowsPager(e *Entity, o *RowsOptions) *RowsPager {
	plan := newRowPlan(e, Fields(e))
	p := &RowsPager{c: c, e: e, plan: plan, dec: newPageDecoder(plan)}
	if o != nil {
		p.after, p.link = o.AfterVersion, o.Link
	}
	return p
}

// rowsURL is the first request of a rows read of e.
func (c *Client) rowsURL(e *Entity, after int64) string {
	u := c.base + url.PathEscape(e.EntitySetName) + "?$select=" + strings.Join(Select(Fields(e)), ",")
	if after > 0 {
		u += "&$filter=" + url.QueryEscape(VersionAttribute+" gt "+strconv.FormatInt(after, 10))
	}
	return u + "&$orderby=" + e.PrimaryIDAttribute
}

// More reports whether NextPage has a page to read.
func (p *RowsPager) More() bool { return !p.done }

// NextPage reads the next page. On error the pager stays where it was, so
// the same page can be asked for again.
func (p *RowsPager) NextPage(ctx context.Context) (*ChangesPage, error) {
	if p.done {
		return nil, fmt.Errorf("dataverse: %s: no more pages", p.e.LogicalName)
	}
	if p.e.EntitySetName == "" || p.e.PrimaryIDAttribute == "" {
		return nil, fmt.Errorf("dataverse: entity %s lacks EntitySetName or PrimaryIdAttribute", p.e.LogicalName)
	}
	target := p.c.rowsURL(p.e, p.after)
	if p.link != "" {
		var err error
		if target, err = p.c.resolve(p.link); err != nil {
			return nil, err
		}
	}
	pageNo := p.pageNo + 1
	page, env, _, err := p.c.fetchPage(ctx, p.plan, p.dec, request{url: target, prefer: p.c.prefer(false, p.plan), entity: p.e.LogicalName, page: pageNo})
	if err != nil {
		return nil, err
	}
	if len(page.Deletes) > 0 || env.deltaLink != "" {
		return nil, &MalformedError{Entity: p.e.LogicalName, Page: pageNo, Reason: "change-tracking content in a plain read"}
	}
	page.NextLink = env.nextLink
	page.MetadataVersion = env.metadataVersion
	p.pageNo = pageNo
	p.link = env.nextLink
	p.done = env.nextLink == ""
	return page, nil
}
