package destination

import (
	"cmp"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dataexport/dataexport/internal/errclass"
)

// Masked replaces every secret-like piece of a connection string in an open
// error.
const masked = "***"

// redact returns err with every piece of conn that could be a credential
// masked in its text.
//
// Drivers quote parts of a connection string in their errors, and a
// malformed one puts a password where a host or database name is expected
// (pgx reads postgres://u:12/PW@h/db as host u, database PW@h/db, and says
// so). Which piece is the secret cannot be known from a string the driver
// itself misread, so every piece of 3 or more characters is masked, except
// the scheme and well-known keys in key position: the error keeps the
// driver's reason ("connection refused", "does not exist") but loses hosts,
// ports and names too. Pieces of 1-2 characters are left: masking them
// would garble every word of the message.
//
// The result has no Unwrap: the driver's error values hold the secret
// (pgconn.ConnectError keeps the whole config), and errors.As or a %+v
// printer would reach them. Its Is still matches err's chain, so sentinel
// checks (context.DeadlineExceeded, sqlserver.ErrConnString) keep working.
func redact(err error, conn, keep string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	head, tail := "", msg
	if keep != "" && strings.HasPrefix(msg, keep) {
		head, tail = keep, msg[len(keep):]
	}
	if re := secretPattern(conn); re != nil {
		tail = re.ReplaceAllLiteralString(tail, masked)
	}
	return &redactedError{msg: head + tail, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string        { return e.msg }
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// ErrorClass keeps the class of the hidden error (an unreachable server,
// a refused login), which the applier acts on.
func (e *redactedError) ErrorClass() errclass.Class { return errclass.Of(e.err) }

// secretPattern matches, case-insensitively, every piece of conn that is to
// be masked; nil if there is none.
func secretPattern(conn string) *regexp.Regexp {
	cands := secretPieces(conn)
	if len(cands) == 0 {
		return nil
	}
	// Longest first: at one position the alternation takes the first that
	// matches, and a piece must not leave the rest of a longer one behind.
	slices.SortFunc(cands, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b)) })
	quoted := make([]string, len(cands))
	for i, c := range cands {
		quoted[i] = regexp.QuoteMeta(c)
	}
	return regexp.MustCompile(`(?i)(?:` + strings.Join(quoted, "|") + `)`)
}

// secretPieces is every piece of conn to mask: conn itself, and the pieces
// of conn and of its URL-decoded forms (a driver reports the decoded
// password), decoded too.
func secretPieces(conn string) []string {
	set := map[string]bool{}
	add := func(s string) {
		if utf8.RuneCountInString(s) >= 3 {
			set[s] = true
		}
	}
	for _, v := range decoded(conn) {
		add(strings.TrimSpace(v))
		for _, pc := range split(v) {
			if isKeyOrScheme(v, pc) {
				continue
			}
			for _, d := range decoded(v[pc.start:pc.end]) {
				add(d)
			}
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	return out
}

// decoded is s and its distinct URL-unescaped forms.
func decoded(s string) []string {
	out := []string{s}
	for _, unescape := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
		if d, err := unescape(s); err == nil && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// delims separate the pieces of URL, ADO (key=value;...), libpq keyword
// (key=value ...) and quoted values.
const delims = ":/@?&=#;,\"'`\\(){}[]<>| \t\r\n"

type span struct{ start, end int }

func split(s string) []span {
	var out []span
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || strings.IndexByte(delims, s[i]) >= 0 {
			if start >= 0 {
				out = append(out, span{start, i})
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return out
}

// schemes and keys are kept in errors where they are the scheme or a key,
// never where they are a value: a password may be "database".
var (
	schemes = setOf("postgres", "postgresql", "sqlserver", "mssql", "azuresql", "file", "sqlite")
	keys    = setOf(
		// libpq and pgx
		"host", "hostaddr", "port", "user", "password", "passfile", "dbname", "database",
		"sslmode", "sslcert", "sslkey", "sslrootcert", "sslpassword", "sslnegotiation", "sslsni",
		"connect_timeout", "application_name", "search_path", "options", "target_session_attrs",
		"statement_cache_capacity", "default_query_exec_mode", "timezone",
		// SQL Server (URL query and ADO, whose keys may be several words)
		"server", "data", "source", "address", "addr", "network", "initial", "catalog",
		"uid", "pwd", "id", "encrypt", "trustservercertificate", "trust", "certificate",
		"hostnameincertificate", "app", "name", "dial", "timeout", "connection", "keepalive",
		"packet", "size", "log", "authenticator", "fedauth", "applicationintent", "failoverpartner",
		"protocol", "instance", "integrated", "security", "persist", "info", "multisubnetfailover",
		// SQLite URI parameters
		"mode", "cache", "vfs", "immutable", "_pragma", "_txlock", "_time_format",
	)
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// isKeyOrScheme reports whether the piece pc of s is the scheme (a known
// one, at the start, before ':') or a known key: after the start or a
// separator, and followed by '=' (perhaps after more words of a multi-word
// key: "user id=").
func isKeyOrScheme(s string, pc span) bool {
	w := strings.ToLower(s[pc.start:pc.end])
	if pc.start == 0 && schemes[w] && strings.HasPrefix(s[pc.end:], ":") {
		return true
	}
	if !keys[w] || pc.start > 0 && !strings.ContainsRune(";&? \t\r\n", rune(s[pc.start-1])) {
		return false
	}
	i := pc.end
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i < len(s) && s[i] == '=' {
			return true
		}
		j := i
		for j < len(s) && strings.IndexByte(delims, s[j]) < 0 {
			j++
		}
		if j == i || !keys[strings.ToLower(s[i:j])] {
			return false
		}
		i = j
	}
}
