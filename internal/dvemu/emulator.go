package dvemu

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultToken is the bearer token accepted when Options.Token is empty.
const DefaultToken = "dvemu-token"

// defaultRetentionDays is the ExpireChangeTrackingInDays used when unset.
const defaultRetentionDays = 7

// defaultMaxURLLength is Options.MaxURLLength's default (doc.go).
const defaultMaxURLLength = 32768

// MaxPageSize is Dataverse's default and maximum odata.maxpagesize.
const MaxPageSize = 5000

// Options configures an Emulator. The zero value is usable.
type Options struct {
	Records  int    // rows generated per entity at start; 0 = 10
	RandSeed int64  // generator seed; same seed => same data
	Token    string // bearer token required on every Web API request; "" = DefaultToken
	// OmitLookupAnnotations never returns @Microsoft.Dynamics.CRM.lookuplogicalname
	// (whether Dataverse returns it on change-tracking responses is unconfirmed).
	OmitLookupAnnotations      bool
	ExpireChangeTrackingInDays int              // 0 = defaultRetentionDays (7)
	Now                        func() time.Time // clock; nil = time.Now
	// ExpiredTokenStatus is the HTTP status of an expired $deltatoken
	// (code 0x80044352); Dataverse's is unconfirmed. 0 = 400.
	ExpiredTokenStatus int
	// UntrackedNoDeltaLink answers Prefer: odata.track-changes on an entity
	// without change tracking with a plain read and no deltaLink (the symptom
	// a third party reports) instead of error 0x80072491.
	UntrackedNoDeltaLink bool
	// OmitVersionNumber never writes versionnumber in data rows, even when
	// $select names it: Microsoft's change-tracking examples show rows with
	// only @odata.etag, and whether Dataverse keeps versionnumber there is
	// unconfirmed. The etag carries the same number.
	OmitVersionNumber bool
	// MaxURLLength answers a longer request URL with 414; 0 = 32768, the
	// Web API's documented limit for a GET URL (doc.go).
	MaxURLLength int
	// ClientID and ClientSecret, when set, are checked by the OAuth2 token
	// endpoint (POST /{tenant}/oauth2/v2.0/token); empty = any.
	ClientID, ClientSecret string
	// Faults configures service-protection limits and injected failures.
	Faults Faults
	// BaseURL is the org URI used in @odata links; "" = derived from the request.
	BaseURL string
	Logger  *slog.Logger // nil = slog.Default()
}

// Emulator is an in-memory Dataverse org. It is an http.Handler serving the
// Web API under /api/data/v9.2/ and an admin API under /_emulator/.
type Emulator struct {
	opts Options
	log  *slog.Logger

	mu      sync.RWMutex
	version int64     // org-wide row version counter, like SQL rowversion
	started time.Time // tokens from before this (an earlier run) are expired
	// metadataVersion counts schema changes (AddAttribute, WidenString...).
	metadataVersion int64
	tables          map[string]*table
	bySet           map[string]*table
	order           []string   // entity logical names in definition order
	idRand          *rand.Rand // ids of created rows, deterministic by seed
	faults          *faultState
}

// New builds an emulator holding the sample org.
func New(opts Options) (*Emulator, error) {
	if opts.Records < 0 {
		return nil, fmt.Errorf("dvemu: Records %d < 0", opts.Records)
	}
	if opts.Records == 0 {
		opts.Records = 10
	}
	if err := opts.Faults.validate(); err != nil {
		return nil, fmt.Errorf("dvemu: %w", err)
	}
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.ExpireChangeTrackingInDays == 0 {
		opts.ExpireChangeTrackingInDays = defaultRetentionDays
	}
	if opts.ExpiredTokenStatus == 0 {
		opts.ExpiredTokenStatus = http.StatusBadRequest
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxURLLength < 0 {
		return nil, fmt.Errorf("dvemu: MaxURLLength %d < 0", opts.MaxURLLength)
	}
	if opts.MaxURLLength == 0 {
		opts.MaxURLLength = defaultMaxURLLength
	}
	e := &Emulator{
		opts:   opts,
		log:    opts.Logger,
		tables: map[string]*table{},
		bySet:  map[string]*table{},
		idRand: rand.New(rand.NewPCG(uint64(opts.RandSeed), hash64("created-ids"))),
	}
	e.faults = newFaultState(opts.Faults, opts.RandSeed, e.now)
	if e.log == nil {
		e.log = slog.Default()
	}
	// Versions start high, like a real org's, and each entity's base rows get
	// a contiguous range so every row has a distinct versionnumber.
	e.version = 1_000_000
	e.started = e.now().Truncate(time.Second)
	e.metadataVersion = 74_812_162
	for _, def := range sampleOrg() {
		if err := e.addEntity(def); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (e *Emulator) addEntity(def Entity) error {
	if _, dup := e.tables[def.LogicalName]; dup {
		return fmt.Errorf("dvemu: entity %s defined twice", def.LogicalName)
	}
	d := def
	n := d.Records
	switch {
	case n == 0:
		n = e.opts.Records
	case n < 0:
		n = 0
	}
	d.Attributes = slices.Clone(d.Attributes)
	for i := range d.Attributes {
		if of := d.Attributes[i].AttributeOf; of != "" {
			if _, parent := d.attr(of); parent != nil && !parent.Type.IsLookup() {
				d.Attributes[i].companion = true
			}
		}
	}
	for _, rel := range relationships {
		if rel.Entity1LogicalName == d.LogicalName || rel.Entity2LogicalName == d.LogicalName {
			d.ManyToMany = append(d.ManyToMany, rel)
		}
	}
	t := &table{def: &d, genDef: &d, n: n, baseAttrs: len(d.Attributes), baseVersion: e.version + 1, overlay: map[string]*rowState{}}
	e.version += int64(n)
	e.tables[d.LogicalName] = t
	e.bySet[d.EntitySetName] = t
	e.order = append(e.order, d.LogicalName)
	return nil
}

func (e *Emulator) now() time.Time { return e.opts.Now().UTC() }

// ServeHTTP routes Web API and admin requests.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// OData nests options with ';' ($expand=Attributes($select=a;$filter=b)).
	// net/http warns about ';' in queries unless AllowQuerySemicolons wraps
	// the handler; that wrapper rewrites ';' to '&', so the original query is
	// put back and parsed by odataQuery, which splits on '&' only.
	if strings.Contains(r.URL.RawQuery, ";") {
		raw := r.URL.RawQuery
		http.AllowQuerySemicolons(http.HandlerFunc(func(w http.ResponseWriter, r2 *http.Request) {
			r2.URL.RawQuery = raw
			e.route(w, r2)
		})).ServeHTTP(w, r)
		return
	}
	e.route(w, r)
}

func (e *Emulator) route(w http.ResponseWriter, r *http.Request) {
	const api = "/api/data/v9.2/"
	switch {
	case len(r.URL.Path) >= len("/_emulator/") && r.URL.Path[:len("/_emulator/")] == "/_emulator/":
		e.serveAdmin(w, r)
	case len(r.URL.Path) >= len(api) && r.URL.Path[:len(api)] == api:
		if len(r.URL.RequestURI()) > e.opts.MaxURLLength {
			writeError(w, http.StatusRequestURITooLong, codeBadRequest, fmt.Sprintf("The request URL is %d characters long; the limit is %d.", len(r.URL.RequestURI()), e.opts.MaxURLLength))
			return
		}
		if !e.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer authorization_uri=https://login.microsoftonline.com/common/oauth2/authorize, resource_id=`+e.baseURL(r)+"/")
			writeError(w, http.StatusUnauthorized, codeNotAuthenticated, "The requested resource requires authentication.")
			return
		}
		release, kind, ok := e.faults.admit(w)
		if !ok {
			return
		}
		defer release()
		if e.faults.inject(r.Context(), w, kind) {
			return
		}
		e.serveAPI(w, r, r.URL.Path[len(api):])
	default:
		if e.serveOAuth(w, r) {
			return
		}
		writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("Resource not found for the segment '%s'.", r.URL.Path))
	}
}

func (e *Emulator) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	const p = "Bearer "
	return len(h) > len(p) && (h[:len(p)] == p || h[:len(p)] == "bearer ") && h[len(p):] == e.opts.Token
}

func (e *Emulator) baseURL(r *http.Request) string {
	if e.opts.BaseURL != "" {
		return e.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
