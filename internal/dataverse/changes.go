package dataverse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"

	"github.com/dataexport/dataexport/internal/record"
)

// ChangesOptions says where a read of changes starts.
type ChangesOptions struct {
	// Link is a stored @odata.nextLink or @odata.deltaLink to resume from;
	// "" starts an initial read with Prefer: odata.track-changes.
	Link string
}

// ChangesPage is one page of a read, decoded into typed records.
type ChangesPage struct {
	Columns []record.Column // the columns of Fields(e), in that order
	Upserts []record.Record // Values aligned with Columns
	Deletes []string        // ids of $deletedEntity entries
	// NextLink is set when another page of this read follows: store it to
	// resume the read. DeltaLink is set on the last page: store it for the
	// next delta read.
	NextLink  string
	DeltaLink string
	Delta     bool // the page belongs to a delta read (context ends in /$delta)
	// UntypedLookups counts polymorphic lookup values that came without a
	// target type annotation; their _entitytype column is left null.
	UntypedLookups int
	// UnnamedLookups counts lookup values whose name helper columns
	// (<lookup>name) stay null: the FormattedValue annotation did not come.
	UnnamedLookups int
	Page           int // 1-based page number within this pager's read
	// MetadataVersion is the @Microsoft.Dynamics.CRM.globalmetadataversion
	// annotation, when the service sends it: it changes with any schema
	// change, a cheap signal to re-read metadata. "" when absent.
	MetadataVersion string
}

// ChangesPager reads the pages of one initial or delta read of an entity.
// It is not safe for concurrent use; pages it returns stay valid after the
// next call (their Columns slice is shared and must not be modified).
type ChangesPager struct {
	c      *Client
	e      *Entity
	plan   *rowPlan
	dec    *pageDecoder
	link   string // next request; "" before the initial request
	delta  bool
	done   bool
	pageNo int
	// notApplied: the initial response did not confirm odata.track-changes.
	notApplied bool
}

// NewChangesPager starts (or resumes, with o.Link) a read of e's changes.
// It selects every column of Fields(e) plus versionnumber and asks for the
// annotations the lookup helper columns are filled from.
func (c *Client) NewChangesPager(e *Entity, o *ChangesOptions) *ChangesPager {
	plan := newRowPlan(e, Fields(e))
	p := &ChangesPager{c: c, e: e, plan: plan, dec: newPageDecoder(plan)}
	if o != nil && o.Link != "" {
		p.link = o.Link
		p.delta = isDeltaLink(o.Link)
	}
	return p
}

// More reports whether NextPage has a page to read.
func (p *ChangesPager) More() bool { return !p.done }

// InitialURL is the first request of an initial read of e.
func (c *Client) InitialURL(e *Entity) string {
	return c.base + url.PathEscape(e.EntitySetName) + "?$select=" + strings.Join(Select(Fields(e)), ",")
}

// prefer is the Prefer header of a data read of plan's entity. It asks for
// the narrowest set of annotations that fills the columns: the lookup
// targets, the metadata version, and the formatted values only when a
// lookup's name is replicated (Dataverse then annotates most properties of
// every row, which the decoder has to skip).
func (c *Client) prefer(track bool, plan *rowPlan) string {
	annotations := lookupLogicalNameAnnotation + "," + metadataVersionAnnotation
	if plan.names {
		annotations = formattedValueAnnotation + "," + annotations
	}
	p := "odata.maxpagesize=" + strconv.Itoa(c.opts.PageSize) + `,odata.include-annotations="` + annotations + `"`
	if track {
		return "odata.track-changes," + p
	}
	return p
}

// NextPage reads the next page. On error the pager stays where it was, so
// the same page can be asked for again.
func (p *ChangesPager) NextPage(ctx context.Context) (*ChangesPage, error) {
	if p.done {
		return nil, fmt.Errorf("dataverse: %s: no more pages", p.e.LogicalName)
	}
	if p.e.EntitySetName == "" || p.e.PrimaryIDAttribute == "" {
		return nil, fmt.Errorf("dataverse: entity %s lacks EntitySetName or PrimaryIdAttribute", p.e.LogicalName)
	}
	initial := p.link == ""
	pageNo := p.pageNo + 1
	target := p.c.InitialURL(p.e)
	if !initial {
		var err error
		if target, err = p.c.resolve(p.link); err != nil {
			return nil, err
		}
	}
	page, env, header, err := p.fetch(ctx, request{url: target, prefer: p.c.prefer(initial, p.plan), entity: p.e.LogicalName, page: pageNo})
	if err != nil {
		return nil, err
	}
	delta := p.delta || strings.HasSuffix(env.context, "/$delta")
	notApplied := p.notApplied || (initial && !strings.Contains(header.Get("Preference-Applied"), "odata.track-changes"))
	switch {
	case env.nextLink != "":
		page.NextLink = env.nextLink
	case env.deltaLink != "":
		page.DeltaLink = env.deltaLink
	case notApplied:
		// An untracked table answers a tracked read like a plain query: no
		// deltaLink and the preference not applied.
		return nil, &ResponseError{StatusCode: http.StatusOK, Code: CodeChangeTrackingNotEnabled,
			Message: "no deltaLink and odata.track-changes not applied", Entity: p.e.LogicalName, Page: pageNo}
	default:
		return nil, &MalformedError{Entity: p.e.LogicalName, Page: pageNo, Reason: "last page carries no @odata.deltaLink"}
	}
	page.Delta = delta
	page.MetadataVersion = env.metadataVersion
	p.delta = delta
	p.notApplied = notApplied
	p.pageNo = pageNo
	if page.NextLink != "" {
		p.link = page.NextLink
	} else {
		p.done = true
	}
	return page, nil
}

// bodyRetries is how often a page whose body broke off mid-stream is
// requested again before the truncation is reported as ErrMalformed.
const bodyRetries = 2

// fetch GETs and decodes one page of the pager's read.
func (p *ChangesPager) fetch(ctx context.Context, r request) (*ChangesPage, pageBody, http.Header, error) {
	return p.c.fetchPage(ctx, p.plan, p.dec, r)
}

// fetchPage GETs and decodes one page of rows. A body cut short by the
// connection (unexpected EOF, network error) is fetched again: the request
// is an idempotent GET of the same link. JSON that is wrong is not retried.
func (c *Client) fetchPage(ctx context.Context, plan *rowPlan, dec *pageDecoder, r request) (*ChangesPage, pageBody, http.Header, error) {
	for attempt := 0; ; attempt++ {
		resp, err := c.get(ctx, r)
		if err != nil {
			return nil, pageBody{}, nil, err
		}
		page := &ChangesPage{Columns: plan.cols, Page: r.page, Upserts: make([]record.Record, 0, dec.rows)}
		env, err := dec.decode(resp.Body, r.page, page)
		resp.Body.Close()
		if err == nil {
			return page, env, resp.Header, nil
		}
		if attempt >= bodyRetries || !brokenBody(err) || ctx.Err() != nil {
			return nil, pageBody{}, nil, err
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "dataverse page body broken off, reading it again",
			slog.String("entity", r.entity), slog.Int("page", r.page), slog.String("error", err.Error()))
	}
}

func brokenBody(err error) bool {
	var ne net.Error
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) || errors.Is(err, syscall.ECONNRESET)
}

func isDeltaLink(link string) bool {
	u, err := url.Parse(link)
	return err == nil && u.Query().Has("$deltatoken")
}

// DeltaTokenVersion returns the version part of $deltatoken=<n>!<date> in a
// deltaLink. The token is documented as opaque, so ok is false whenever it
// does not have that shape; callers must have a fallback.
func DeltaTokenVersion(link string) (int64, bool) {
	u, err := url.Parse(link)
	if err != nil {
		return 0, false
	}
	tok := u.Query().Get("$deltatoken")
	n, _, found := strings.Cut(tok, "!")
	if !found || n == "" {
		return 0, false
	}
	v, err := strconv.ParseInt(n, 10, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v, true
}

// PendingChanges counts the changes a delta read from deltaLink would return
// (GET <set>/$count?$deltatoken=...), without reading them: a lag measure.
func (c *Client) PendingChanges(ctx context.Context, e *Entity, deltaLink string) (int64, error) {
	u, err := url.Parse(deltaLink)
	if err != nil {
		return 0, fmt.Errorf("dataverse: bad deltaLink: %w", err)
	}
	// Reuse the token exactly as the service encoded it.
	var tok string
	for _, kv := range strings.Split(u.RawQuery, "&") {
		if v, ok := strings.CutPrefix(kv, "$deltatoken="); ok {
			tok = v
		}
	}
	if tok == "" {
		return 0, fmt.Errorf("dataverse: %s: link has no $deltatoken", e.LogicalName)
	}
	resp, err := c.get(ctx, request{url: c.base + url.PathEscape(e.EntitySetName) + "/$count?$deltatoken=" + tok, entity: e.LogicalName})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64))
	if err != nil {
		return 0, &MalformedError{Entity: e.LogicalName, Reason: "$count", Err: err}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))), 10, 64)
	if err != nil {
		return 0, &MalformedError{Entity: e.LogicalName, Reason: "$count is not a number", Err: err}
	}
	return n, nil
}
