package dataverse

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// RowKey is a row's primary key and version.
type RowKey struct {
	ID      string
	Version int64
}

// KeysPage is one page of a keys read.
type KeysPage struct {
	Keys []RowKey
	// NextLink is set when another page follows: store it to resume the
	// read (KeysOptions.Link). The last page has none.
	NextLink   string
	Page       int   // 1-based page number within this pager's read
	MaxVersion int64 // highest version on this page, 0 when it is empty
}

// KeysOptions says where a keys read starts.
type KeysOptions struct {
	// Link is a stored KeysPage.NextLink to resume from; "" starts a new read.
	Link string
}

// KeysPager reads the (id, versionnumber) of every row of an entity, a page
// of at most ClientOptions.PageSize keys at a time, with
// $select=<primary id>,versionnumber: the input of a reconcile (counts and
// checksums of (id, version) per range) and of the sweep that removes the
// rows a full re-read did not see. Memory stays that of one page whatever
// the size of the table. A row without versionnumber takes the number of
// its @odata.etag, as in change pages.
//
// The read asks for $orderby=<primary id>, the order Dataverse pages in
// anyway, so that paging is deterministic; nothing here depends on it, and
// callers must not either: SQL Server orders uniqueidentifiers by byte
// groups, not as text, so range a reconcile by something computed from
// each id (a prefix or a hash of it), never by position in the stream.
//
// It is not safe for concurrent use; pages stay valid after the next call.
type KeysPager struct {
	c          *Client
	e          *Entity
	plan       *rowPlan
	dec        *pageDecoder
	link       string // next request; "" before the first
	done       bool
	pageNo     int
	maxVersion int64
}

// NewKeysPager starts (or resumes, with o.Link) a keys read of e.
func (c *Client) NewKeysPager(e *Entity, o *KeysOptions) *KeysPager {
	plan := newRowPlan(e, nil)
	p := &KeysPager{c: c, e: e, plan: plan, dec: newPageDecoder(plan)}
	if o != nil {
		p.link = o.Link
	}
	return p
}

// keysURL is the first request of a keys read of e.
func (c *Client) keysURL(e *Entity) string {
	return c.base + url.PathEscape(e.EntitySetName) + "?$select=" + e.PrimaryIDAttribute + "," + VersionAttribute +
		"&$orderby=" + e.PrimaryIDAttribute
}

// More reports whether NextPage has a page to read.
func (p *KeysPager) More() bool { return !p.done }

// MaxVersion is the highest version of the pages this pager has read.
func (p *KeysPager) MaxVersion() int64 { return p.maxVersion }

// NextPage reads the next page. On error the pager stays where it was, so
// the same page can be asked for again.
func (p *KeysPager) NextPage(ctx context.Context) (*KeysPage, error) {
	if p.done {
		return nil, fmt.Errorf("dataverse: %s: no more pages", p.e.LogicalName)
	}
	if p.e.EntitySetName == "" || p.e.PrimaryIDAttribute == "" {
		return nil, fmt.Errorf("dataverse: entity %s lacks EntitySetName or PrimaryIdAttribute", p.e.LogicalName)
	}
	target := p.c.keysURL(p.e)
	if p.link != "" {
		var err error
		if target, err = p.c.resolve(p.link); err != nil {
			return nil, err
		}
	}
	pageNo := p.pageNo + 1
	page, env, _, err := p.c.fetchPage(ctx, p.plan, p.dec, request{url: target, prefer: "odata.maxpagesize=" + strconv.Itoa(p.c.opts.PageSize), entity: p.e.LogicalName, page: pageNo})
	if err != nil {
		return nil, err
	}
	if len(page.Deletes) > 0 || env.deltaLink != "" {
		return nil, &MalformedError{Entity: p.e.LogicalName, Page: pageNo, Reason: "change-tracking content in a keys read"}
	}
	kp := &KeysPage{Keys: make([]RowKey, len(page.Upserts)), NextLink: env.nextLink, Page: pageNo}
	for i, r := range page.Upserts {
		kp.Keys[i] = RowKey{ID: r.ID, Version: r.Version}
		kp.MaxVersion = max(kp.MaxVersion, r.Version)
	}
	p.maxVersion = max(p.maxVersion, kp.MaxVersion)
	p.pageNo = pageNo
	p.link = env.nextLink
	p.done = env.nextLink == ""
	return kp, nil
}
