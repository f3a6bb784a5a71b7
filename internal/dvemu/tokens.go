package dvemu

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// tokenTimeLayout is the timestamp part of a delta token: MM/dd/yyyy HH:mm:ss.
const tokenTimeLayout = "01/02/2006 15:04:05"

// deltaToken is "<version>!<MM/dd/yyyy HH:mm:ss>", the documented shape.
func deltaToken(version int64, at time.Time) string {
	return strconv.FormatInt(version, 10) + "!" + at.UTC().Format(tokenTimeLayout)
}

func parseDeltaToken(s string) (int64, time.Time, error) {
	v, ts, ok := strings.Cut(s, "!")
	if !ok {
		return 0, time.Time{}, fmt.Errorf("malformed delta token %q", s)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, time.Time{}, fmt.Errorf("malformed delta token version %q", v)
	}
	t, err := time.Parse(tokenTimeLayout, ts)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("malformed delta token time %q", ts)
	}
	return n, t, nil
}

// pageCookie is the state of a paged tracking read. It travels inside the
// $skiptoken, so a stored nextLink resumes after a client restart: nothing
// is kept server-side.
type pageCookie struct {
	page     int    // number of the page this cookie asks for
	tracking bool   // change-tracking read (its last page carries the deltaLink)
	version  int64  // initial read: snapshot version; delta: upper bound
	stamp    string // timestamp part of the final delta token
	// Initial read: ids of the previous page.
	first, last string
	// offset is where the next page starts in a plain read ordered by
	// $orderby on other columns than the primary key.
	offset int
	// Delta read: lower bound, phase ('u' upserts, 'd' deletes) and the
	// last change version emitted in that phase.
	delta bool
	from  int64
	phase byte
	after int64
}

type outerCookie struct {
	XMLName      xml.Name `xml:"cookie"`
	PageNumber   int      `xml:"pagenumber,attr"`
	PagingCookie string   `xml:"pagingcookie,attr"`
	IsTracking   string   `xml:"istracking,attr"`
	DataVersion  string   `xml:"dataversion,attr"`
	FromVersion  string   `xml:"fromversion,attr,omitempty"`
	Phase        string   `xml:"phase,attr,omitempty"`
	Position     string   `xml:"position,attr,omitempty"`
}

type innerCookie struct {
	XMLName xml.Name `xml:"cookie"`
	Page    int      `xml:"page,attr"`
	Items   []struct {
		XMLName xml.Name
		Last    string `xml:"last,attr"`
		First   string `xml:"first,attr"`
	} `xml:",any"`
}

// encode renders the cookie like Dataverse's:
// <cookie pagenumber="2" pagingcookie="%3ccookie%20page%3d%221%22%3e..." istracking="True" />
// and returns it escaped for use as the $skiptoken query value.
func (c pageCookie) encode(primaryID string) string {
	var inner string
	if c.delta {
		inner = fmt.Sprintf(`<cookie page="%d"><versionnumber last="%d" /></cookie>`, c.page-1, c.after)
	} else {
		inner = fmt.Sprintf(`<cookie page="%d"><%s last="{%s}" first="{%s}" /></cookie>`, c.page-1, primaryID,
			strings.ToUpper(c.last), strings.ToUpper(c.first))
	}
	tracking := "False"
	if c.tracking || c.delta {
		tracking = "True"
	}
	outer := fmt.Sprintf(`<cookie pagenumber="%d" pagingcookie="%s" istracking="%s" dataversion="%s"`,
		c.page, escapeLower(inner, ""), tracking, deltaToken(c.version, mustParseStamp(c.stamp)))
	if c.delta {
		outer += fmt.Sprintf(` fromversion="%d" phase="%c"`, c.from, c.phase)
	}
	if c.offset > 0 {
		outer += fmt.Sprintf(` position="%d"`, c.offset)
	}
	outer += " />"
	return escapeLower(outer, "=")
}

func mustParseStamp(s string) time.Time {
	t, err := time.Parse(tokenTimeLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// parseCookie reads a $skiptoken value (already query-decoded once).
func parseCookie(s string) (pageCookie, error) {
	var o outerCookie
	if err := xml.Unmarshal([]byte(s), &o); err != nil {
		return pageCookie{}, fmt.Errorf("malformed paging cookie: %w", err)
	}
	ver, at, err := parseDeltaToken(o.DataVersion)
	if err != nil {
		return pageCookie{}, err
	}
	c := pageCookie{page: o.PageNumber, version: ver, stamp: at.Format(tokenTimeLayout), tracking: strings.EqualFold(o.IsTracking, "true")}
	innerText, err := url.PathUnescape(o.PagingCookie)
	if err != nil {
		return pageCookie{}, fmt.Errorf("malformed paging cookie: %w", err)
	}
	var in innerCookie
	if err := xml.Unmarshal([]byte(innerText), &in); err != nil {
		return pageCookie{}, fmt.Errorf("malformed paging cookie: %w", err)
	}
	if len(in.Items) != 1 {
		return pageCookie{}, fmt.Errorf("malformed paging cookie: %d position elements", len(in.Items))
	}
	it := in.Items[0]
	if o.FromVersion != "" {
		c.delta = true
		if c.from, err = strconv.ParseInt(o.FromVersion, 10, 64); err != nil {
			return pageCookie{}, fmt.Errorf("malformed paging cookie fromversion: %w", err)
		}
		if o.Phase != "u" && o.Phase != "d" {
			return pageCookie{}, fmt.Errorf("malformed paging cookie phase %q", o.Phase)
		}
		c.phase = o.Phase[0]
		if c.after, err = strconv.ParseInt(it.Last, 10, 64); err != nil {
			return pageCookie{}, fmt.Errorf("malformed paging cookie position: %w", err)
		}
		return c, nil
	}
	if o.Position != "" {
		if c.offset, err = strconv.Atoi(o.Position); err != nil || c.offset < 0 {
			return pageCookie{}, fmt.Errorf("malformed paging cookie position %q", o.Position)
		}
	}
	c.last = strings.ToLower(strings.Trim(it.Last, "{}"))
	c.first = strings.ToLower(strings.Trim(it.First, "{}"))
	if c.last == "" {
		return pageCookie{}, fmt.Errorf("malformed paging cookie: no last id")
	}
	return c, nil
}
