package dvemu

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// readRequest is a parsed GET on an entity set.
type readRequest struct {
	t         *table
	ent       *Entity // definition snapshot taken under the lock
	pref      prefer
	selectRaw []string
	cols      []column
	tracking  bool
	rows      *rowQuery // plain reads: filter, order, $top, $count
	base      string    // org URI
	// omitNulls leaves null columns out of rows, as FetchXML answers do.
	omitNulls bool
}

// serveEntitySet answers GET /{entityset} (plain reads, the initial tracked
// read, its pages, delta reads), GET /{entityset}/$count and POST (create).
func (e *Emulator) serveEntitySet(w http.ResponseWriter, r *http.Request, t *table, countOnly bool) {
	switch {
	case r.Method == http.MethodPost && !countOnly:
		e.serveCreate(w, r, t)
		return
	case r.Method != http.MethodGet:
		writeError(w, http.StatusMethodNotAllowed, codeBadSegment, "The HTTP method '"+r.Method+"' is not supported on this resource.")
		return
	}
	q := odataQuery(r.URL.RawQuery)
	e.mu.RLock()
	ent := t.def
	e.mu.RUnlock()
	req := &readRequest{t: t, ent: ent, pref: parsePrefer(r.Header), base: e.baseURL(r)}
	req.selectRaw = splitList(q.Get("$select"))
	deltaTok, skipTok := q.Get("$deltatoken"), q.Get("$skiptoken")
	req.tracking = req.pref.trackChanges || deltaTok != "" || strings.Contains(skipTok, `istracking="True"`)

	kind := readPlain
	switch {
	case countOnly:
		kind = readCount
	case req.tracking:
		kind = readTracking
	}
	if err := checkOptions(q, kind); err != nil {
		err.write(w)
		return
	}
	if req.tracking && ent.ChangeTrackingDisabled {
		if !e.opts.UntrackedNoDeltaLink || deltaTok != "" {
			writeError(w, http.StatusBadRequest, codeTrackingDisabled, fmt.Sprintf("Entity %s isn't enabled for change tracking.", ent.LogicalName))
			return
		}
		req.tracking, req.pref.trackChanges = false, false
	}
	if deltaTok == "" && (countOnly || !req.tracking) {
		if q.Has("fetchXml") {
			e.serveFetchXML(w, req, q)
			return
		}
		rq, err := parseRowQuery(ent, q)
		if err != nil {
			err.write(w)
			return
		}
		req.rows = rq
	}
	cols, err := selectColumns(ent, req.selectRaw)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadSegment, err.Error())
		return
	}
	req.cols = cols

	switch {
	case deltaTok != "":
		from, at, err := parseDeltaToken(deltaTok)
		if err != nil {
			writeError(w, http.StatusBadRequest, codeBadRequest, "Invalid $deltatoken: "+err.Error())
			return
		}
		if e.now().Sub(at) > time.Duration(e.opts.ExpireChangeTrackingInDays)*24*time.Hour || !e.issuedHere(from, at) {
			e.expired(w)
			return
		}
		c := pageCookie{page: 1, delta: true, from: from, phase: 'u', after: from, stamp: e.now().Format(tokenTimeLayout)}
		e.mu.RLock()
		c.version = e.version
		e.mu.RUnlock()
		if countOnly {
			e.serveDeltaCount(w, t, c)
			return
		}
		e.serveDelta(w, req, c)
	case countOnly:
		e.mu.RLock()
		n := 0
		it := e.rowIter(t, "")
		for id, ok := it.next(); ok; id, ok = it.next() {
			vals, version, _ := e.row(t, id)
			if req.rows.match(vals, version) {
				n++
			}
		}
		e.mu.RUnlock()
		writeCount(w, n)
	case skipTok != "":
		c, err := parseCookie(skipTok)
		if err != nil {
			writeError(w, http.StatusBadRequest, codeBadRequest, "Invalid $skiptoken: "+err.Error())
			return
		}
		if !e.issuedHere(c.version, mustParseStamp(c.stamp)) {
			e.expired(w)
			return
		}
		req.tracking = c.tracking || c.delta
		if req.tracking {
			req.rows = nil
		}
		if c.delta {
			e.serveDelta(w, req, c)
			return
		}
		e.serveInitial(w, req, c)
	default:
		c := pageCookie{page: 1, stamp: e.now().Format(tokenTimeLayout), tracking: req.tracking}
		e.mu.RLock()
		c.version = e.version
		e.mu.RUnlock()
		e.serveInitial(w, req, c)
	}
}

func (req *readRequest) setURL() string {
	return req.base + "/api/data/v9.2/" + req.ent.EntitySetName
}

func (req *readRequest) context(delta bool) string {
	s := req.base + "/api/data/v9.2/$metadata#" + req.ent.EntitySetName
	if len(req.selectRaw) > 0 {
		s += "(" + strings.Join(req.selectRaw, ",") + ")"
	}
	if delta {
		s += "/$delta"
	}
	return s
}

// link builds a next/delta link echoing the request's $select.
func (req *readRequest) link(param, value string) string {
	s := req.setURL() + "?"
	if len(req.selectRaw) > 0 {
		s += "$select=" + escapeLower(strings.Join(req.selectRaw, ","), ",") + "&"
	}
	if req.rows != nil && req.rows.echo != "" {
		s += req.rows.echo + "&"
	}
	return s + param + "=" + value
}

func (e *Emulator) rowWriter(req *readRequest) *rowWriter {
	rw := &rowWriter{ent: req.ent, cols: req.cols,
		annotations: !e.opts.OmitLookupAnnotations && req.pref.wantsAnnotation("Microsoft.Dynamics.CRM.lookuplogicalname"),
		formatted:   req.pref.wantsAnnotation("OData.Community.Display.V1.FormattedValue"),
		navProp:     !e.opts.OmitLookupAnnotations && req.pref.wantsAnnotation("Microsoft.Dynamics.CRM.associatednavigationproperty"),
		lookupName:  e.primaryNameOf,
		deletedCtx:  req.base + "/api/data/v9.2/$metadata#" + req.ent.EntitySetName + "/$deletedEntity",
		omitNulls:   req.omitNulls,
		omitVersion: e.opts.OmitVersionNumber}
	for _, c := range req.cols {
		if c.attr.IsPrimaryID {
			rw.selectedPK = true
		}
	}
	return rw
}

func (e *Emulator) preferenceApplied(w http.ResponseWriter, req *readRequest) {
	h := w.Header()
	if req.pref.trackChanges {
		h.Add("Preference-Applied", "odata.track-changes")
	}
	if req.pref.maxPageSize > 0 {
		h.Add("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(req.pref.pageSize()))
	}
	if req.pref.annotations != "" {
		h.Add("Preference-Applied", `odata.include-annotations="`+req.pref.annotations+`"`)
	}
}

// serveInitial writes one page of the full read. Rows are read in id order
// from the cookie's position; the snapshot version in the cookie becomes
// the deltaLink's version, so changes made while paging are re-delivered
// by the next delta read instead of being lost. Plain reads with another
// $orderby page by position instead (see serveOrdered).
func (e *Emulator) serveInitial(w http.ResponseWriter, req *readRequest, c pageCookie) {
	if !req.rows.pkOrder(req.ent) {
		e.serveOrdered(w, req, c)
		return
	}
	size, topped := req.pageSize()
	rows := make([]rowOut, 0, min(size+1, 1024))
	e.mu.RLock()
	it := e.rowIter(req.t, c.last)
	for len(rows) <= size {
		id, ok := it.next()
		if !ok {
			break
		}
		vals, version, _ := e.row(req.t, id)
		if !req.rows.match(vals, version) {
			continue
		}
		rows = append(rows, rowOut{id: id, version: version, vals: vals})
	}
	e.mu.RUnlock()

	more := len(rows) > size
	if more {
		rows = rows[:size]
		more = !topped
	}
	var next *pageCookie
	if more {
		next = &pageCookie{page: c.page + 1, tracking: req.tracking, version: c.version, stamp: c.stamp, first: rows[0].id, last: rows[len(rows)-1].id}
	}
	e.writeInitialPage(w, req, c, rows, next)
}

// pageSize is the number of rows of a page, and whether $top bounds the
// whole read (no nextLink). $top is ignored with odata.maxpagesize, as
// documented.
func (req *readRequest) pageSize() (int, bool) {
	size := req.pref.pageSize()
	if rq := req.rows; rq != nil && rq.hasTop && req.pref.maxPageSize == 0 && rq.top <= size {
		return rq.top, true
	}
	return size, false
}

// serveOrdered pages a plain read with an $orderby other than the primary
// key: every matching row is sorted (ties by primary key) and the cookie
// carries the position of the next page (doc.go).
func (e *Emulator) serveOrdered(w http.ResponseWriter, req *readRequest, c pageCookie) {
	size, topped := req.pageSize()
	var all []rowOut
	e.mu.RLock()
	it := e.rowIter(req.t, "")
	for id, ok := it.next(); ok; id, ok = it.next() {
		vals, version, _ := e.row(req.t, id)
		if req.rows.match(vals, version) {
			all = append(all, rowOut{id: id, version: version, vals: vals})
		}
	}
	e.mu.RUnlock()
	slices.SortStableFunc(all, func(a, b rowOut) int {
		return compareRows(req.rows.order, rowView{vals: a.vals, version: a.version}, rowView{vals: b.vals, version: b.version})
	})
	from := min(c.offset, len(all))
	rows := all[from:min(from+size, len(all))]
	var next *pageCookie
	if from+size < len(all) && !topped && len(rows) > 0 {
		next = &pageCookie{page: c.page + 1, version: c.version, stamp: c.stamp, first: rows[0].id, last: rows[len(rows)-1].id, offset: from + size}
	}
	e.writeInitialPage(w, req, c, rows, next)
}

// writeInitialPage writes a page of a full or plain read: the envelope,
// @odata.count and the record-count annotations of plain reads, the
// nextLink (next != nil) or, at the end of a tracked read, the deltaLink.
func (e *Emulator) writeInitialPage(w http.ResponseWriter, req *readRequest, c pageCookie, rows []rowOut, next *pageCookie) {
	var count int
	var counted bool
	if rq := req.rows; rq != nil && rq.count {
		count, counted = e.countMatching(req.t, rq, maxCount+1), true
	}
	e.preferenceApplied(w, req)
	enc, flush := startJSON(w, http.StatusOK)
	defer flush()
	_ = enc.WriteToken(jsontext.BeginObject)
	_ = enc.WriteToken(jsontext.String("@odata.context"))
	_ = enc.WriteToken(jsontext.String(req.context(false)))
	if counted {
		_ = enc.WriteToken(jsontext.String("@odata.count"))
		_ = enc.WriteToken(jsontext.Int(int64(min(count, maxCount))))
	}
	if req.rows != nil {
		// Without $count=true the total is documented as -1.
		total, exceeded := int64(-1), false
		if counted {
			total, exceeded = int64(min(count, maxCount)), count > maxCount
		}
		if req.pref.wantsAnnotation("Microsoft.Dynamics.CRM.totalrecordcount") {
			_ = enc.WriteToken(jsontext.String("@Microsoft.Dynamics.CRM.totalrecordcount"))
			_ = enc.WriteToken(jsontext.Int(total))
		}
		if req.pref.wantsAnnotation("Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded") {
			_ = enc.WriteToken(jsontext.String("@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"))
			_ = enc.WriteToken(jsontext.Bool(exceeded))
		}
	}
	e.writeMetadataVersion(enc, req)
	switch {
	case next != nil:
		_ = enc.WriteToken(jsontext.String("@odata.nextLink"))
		_ = enc.WriteToken(jsontext.String(req.link("$skiptoken", next.encode(req.ent.PrimaryID))))
	case req.tracking:
		_ = enc.WriteToken(jsontext.String("@odata.deltaLink"))
		_ = enc.WriteToken(jsontext.String(req.link("$deltatoken", escapeLower(deltaToken(c.version, mustParseStamp(c.stamp)), ""))))
	}
	e.writeRows(enc, req, rows)
	_ = enc.WriteToken(jsontext.EndObject)
}

// countMatching counts the rows a plain read selects, stopping at limit.
func (e *Emulator) countMatching(t *table, rq *rowQuery, limit int) int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	n := 0
	it := e.rowIter(t, "")
	for id, ok := it.next(); ok && n < limit; id, ok = it.next() {
		vals, version, _ := e.row(t, id)
		if rq.match(vals, version) {
			n++
		}
	}
	return n
}

func (e *Emulator) writeRows(enc *jsontext.Encoder, req *readRequest, rows []rowOut) {
	rw := e.rowWriter(req)
	_ = enc.WriteToken(jsontext.String("value"))
	_ = enc.WriteToken(jsontext.BeginArray)
	for _, r := range rows {
		if err := rw.write(enc, r); err != nil {
			e.log.Error("dvemu: render row", "entity", req.ent.LogicalName, "id", r.id, "err", err)
			return
		}
	}
	_ = enc.WriteToken(jsontext.EndArray)
}

// deltaEntry is a change found in the log, with where it was found so the
// next page can resume after it.
type deltaEntry struct {
	rowOut
	phase byte
	logV  int64
}

// collectDelta walks the change log for versions in (c.from, c.version]:
// first the rows whose latest change is an upsert (by version), then those
// whose latest change is a delete. A change superseded after c.version is
// skipped here and delivered by the next delta. Callers hold e.mu.RLock.
func (e *Emulator) collectDelta(t *table, c pageCookie, limit int, withVals bool) []deltaEntry {
	var out []deltaEntry
	phase, after := c.phase, c.after
	for {
		start := sort.Search(len(t.log), func(k int) bool { return t.log[k].version > after })
		for _, le := range t.log[start:] {
			if le.version > c.version || (limit > 0 && len(out) >= limit) {
				break
			}
			st := t.overlay[le.id]
			if st == nil || st.version != le.version || st.deleted != (phase == 'd') {
				continue
			}
			d := deltaEntry{rowOut: rowOut{id: le.id, version: st.version, deleted: st.deleted}, phase: phase, logV: le.version}
			if withVals {
				d.vals = st.vals
			}
			out = append(out, d)
		}
		if phase == 'd' || (limit > 0 && len(out) >= limit) {
			return out
		}
		phase, after = 'd', c.from
	}
}

func (e *Emulator) serveDelta(w http.ResponseWriter, req *readRequest, c pageCookie) {
	size := req.pref.pageSize()
	e.mu.RLock()
	entries := e.collectDelta(req.t, c, size+1, true)
	e.mu.RUnlock()
	more := len(entries) > size
	if more {
		entries = entries[:size]
	}
	e.preferenceApplied(w, req)
	enc, flush := startJSON(w, http.StatusOK)
	defer flush()
	_ = enc.WriteToken(jsontext.BeginObject)
	_ = enc.WriteToken(jsontext.String("@odata.context"))
	_ = enc.WriteToken(jsontext.String(req.context(true)))
	e.writeMetadataVersion(enc, req)
	if more {
		last := entries[len(entries)-1]
		next := c
		next.page, next.phase, next.after = c.page+1, last.phase, last.logV
		_ = enc.WriteToken(jsontext.String("@odata.nextLink"))
		_ = enc.WriteToken(jsontext.String(req.link("$skiptoken", next.encode(req.ent.PrimaryID))))
	} else {
		_ = enc.WriteToken(jsontext.String("@odata.deltaLink"))
		_ = enc.WriteToken(jsontext.String(req.link("$deltatoken", escapeLower(deltaToken(c.version, mustParseStamp(c.stamp)), ""))))
	}
	rows := make([]rowOut, len(entries))
	for i := range entries {
		rows[i] = entries[i].rowOut
	}
	e.writeRows(enc, req, rows)
	_ = enc.WriteToken(jsontext.EndObject)
}

// serveDeltaCount answers /$count?$deltatoken= with the number of pending
// changes as text, like OData $count.
func (e *Emulator) serveDeltaCount(w http.ResponseWriter, t *table, c pageCookie) {
	e.mu.RLock()
	n := len(e.collectDelta(t, c, 0, false))
	e.mu.RUnlock()
	writeCount(w, n)
}

func writeCount(w http.ResponseWriter, n int) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("OData-Version", "4.0")
	_, _ = w.Write([]byte(strconv.Itoa(n)))
}

// writeMetadataVersion adds the globalmetadataversion annotation when asked
// for: a cheap signal that some schema changed.
func (e *Emulator) writeMetadataVersion(enc *jsontext.Encoder, req *readRequest) {
	if !req.pref.wantsAnnotation("Microsoft.Dynamics.CRM.globalmetadataversion") {
		return
	}
	e.mu.RLock()
	v := e.metadataVersion
	e.mu.RUnlock()
	_ = enc.WriteToken(jsontext.String("@Microsoft.Dynamics.CRM.globalmetadataversion"))
	_ = enc.WriteToken(jsontext.String(strconv.FormatInt(v, 10)))
}

// issuedHere reports whether a token (version, time) can come from this
// emulator: not from before it started (its change history begins then, so
// a client holding a link from an earlier run must re-read everything) and
// not from the future.
func (e *Emulator) issuedHere(version int64, at time.Time) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return !at.Before(e.started) && version <= e.version
}

func (e *Emulator) expired(w http.ResponseWriter) {
	writeError(w, e.opts.ExpiredTokenStatus, codeExpiredVersion, "Version stamp associated with the client has expired. Please perform a full sync.")
}

// primaryNameOf reads a lookup target's primary name (its formatted value).
func (e *Emulator) primaryNameOf(ref Ref) (string, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	t := e.tables[ref.Entity]
	if t == nil || t.def.PrimaryName == "" {
		return "", false
	}
	vals, _, ok := e.row(t, ref.ID)
	if !ok {
		return "", false
	}
	i, _ := t.def.attr(t.def.PrimaryName)
	if i < 0 || i >= len(vals) {
		return "", false
	}
	name, ok := vals[i].(string)
	return name, ok
}
