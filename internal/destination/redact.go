package destination

import (
	"cmp"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dataexport/dataexport/internal/errclass"
)

// masked replaces a secret in an open error.
const masked = "***"

// redact returns err with the secrets of conn (password, key, token) masked
// in its text, and nothing else: the error still names the host, port,
// database and user, which are what an administrator needs to fix it.
//
// Drivers quote parts of a connection string in their errors, and a
// malformed one puts a piece of the password where a host or database name
// is expected (pgx reads postgres://u:12/PW@h/db as host u, database
// PW@h/db). secretValues reads the string the way its author meant it (the
// last '@' ends the user information; a piece without '=' continues the
// value before it), so such pieces are masked too. A secret is masked only
// where it stands as a whole word: a password "not" leaves "cannot" alone.
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
	return &redactedError{msg: head + maskSecrets(tail, conn), err: err}
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

// maskSecrets masks, case-insensitively and as whole words, every secret
// of conn in text.
func maskSecrets(text, conn string) string {
	words := secretWords(conn)
	if len(words) == 0 {
		return text
	}
	// Longest first, so that a secret is not left half masked by a piece
	// of it.
	slices.SortFunc(words, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b)) })
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = regexp.QuoteMeta(w)
	}
	re := regexp.MustCompile(`(?i)(?:` + strings.Join(quoted, "|") + `)`)
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringIndex(text, -1) {
		if !wordBoundary(text, m[0], m[1]) {
			continue
		}
		b.WriteString(text[last:m[0]])
		b.WriteString(masked)
		last = m[1]
	}
	b.WriteString(text[last:])
	return b.String()
}

// wordBoundary reports whether text[i:j] is not glued to a letter or digit
// on either side.
func wordBoundary(text string, i, j int) bool {
	if i > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:i])
		if isWordRune(r) {
			return false
		}
	}
	if j < len(text) {
		r, _ := utf8.DecodeRuneInString(text[j:])
		if isWordRune(r) {
			return false
		}
	}
	return true
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// secretKeys are the connection-string keys whose values are secrets, in
// every dialect (libpq, pgx, go-mssqldb ADO/ODBC/URL, SQLite URIs).
var secretKeys = setOf(
	"password", "pwd", "pass", "passwd", "sslpassword", "sslkey_password",
	"clientsecret", "client secret", "client_secret", "accesstoken", "access token", "access_token",
	"token", "key", "_key", "accountkey", "account key", "sharedaccesskey", "sig", "_auth_pass",
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// secretWords is every form in which a secret of conn may appear in an
// error: each secret value, raw and URL-decoded, and its pieces of 3 or more
// characters (a driver that misreads the string reports a piece).
func secretWords(conn string) []string {
	set := map[string]bool{}
	for _, v := range secretValues(conn) {
		for _, d := range decodedForms(v) {
			if d = strings.TrimSpace(d); d != "" {
				set[d] = true
			}
			for _, piece := range splitPieces(d) {
				if utf8.RuneCountInString(piece) >= 3 {
					set[piece] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	return out
}

// decodedForms is s and its distinct URL-unescaped forms.
func decodedForms(s string) []string {
	out := []string{s}
	for _, unescape := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
		if d, err := unescape(s); err == nil && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// pieceDelims split a secret that a driver may have cut apart.
const pieceDelims = ":/@?&=#;,\"'`\\(){}[]<>| \t\r\n"

func splitPieces(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(pieceDelims, r) })
}

// secretValues reads the secret values of a connection string: the
// password of a URL (postgres://, sqlserver://, ...) and the values of
// secret keys in its query, or the values of secret keys of a key=value
// string (libpq: separated by spaces; ADO/ODBC: by ';'). A SQLite path
// holds no secret but in its query.
func secretValues(conn string) []string {
	conn = strings.TrimSpace(conn)
	if conn == "" {
		return nil
	}
	if i := strings.Index(conn, "://"); i > 0 && !strings.ContainsAny(conn[:i], "=; ") {
		return urlSecrets(conn[i+3:])
	}
	if strings.Contains(conn, "=") && !strings.HasPrefix(conn, "file:") && !strings.HasPrefix(conn, "/") && !strings.HasPrefix(conn, ".") {
		sep := " "
		if strings.Contains(conn, ";") {
			sep = ";"
		}
		return keywordSecrets(conn, sep)
	}
	// A file path or file: URI (SQLite): only query parameters can be secret.
	if _, q, ok := strings.Cut(conn, "?"); ok {
		return querySecrets(q)
	}
	return nil
}

// urlSecrets reads the part of a URL after "scheme://". The last '@' ends
// the user information, as the author meant even when '/', '?' or '#' in
// an unescaped password would make a URL parser end it earlier.
func urlSecrets(rest string) []string {
	var out []string
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
			out = append(out, pw)
		}
		rest = rest[at+1:]
	}
	if _, q, ok := strings.Cut(rest, "?"); ok {
		out = append(out, querySecrets(q)...)
	}
	return out
}

func querySecrets(q string) []string {
	var out []string
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k2, err := url.QueryUnescape(k); err == nil {
			k = k2
		}
		if secretKeys[strings.ToLower(strings.TrimSpace(k))] && v != "" {
			out = append(out, v)
		}
	}
	return out
}

// keywordSecrets reads key=value pairs separated by sep. Values may be
// quoted ('...' in libpq; "..." or {...} in ADO/ODBC). A piece without '='
// continues the value before it: an unquoted space or ';' in a password.
func keywordSecrets(conn, sep string) []string {
	type pair struct{ key, val string }
	var pairs []pair
	i := 0
	for i < len(conn) {
		for i < len(conn) && (strings.HasPrefix(conn[i:], sep) || conn[i] == ' ' || conn[i] == '\t') {
			i++
		}
		if i >= len(conn) {
			break
		}
		eq := strings.IndexByte(conn[i:], '=')
		end := strings.Index(conn[i:], sep)
		if eq < 0 || (end >= 0 && end < eq) {
			// No key here: this piece continues the previous value.
			n := len(conn) - i
			if end >= 0 {
				n = end
			}
			if len(pairs) > 0 {
				pairs[len(pairs)-1].val += sep + conn[i:i+n]
			}
			i += n
			continue
		}
		key := strings.ToLower(strings.TrimSpace(conn[i : i+eq]))
		i += eq + 1
		for i < len(conn) && conn[i] == ' ' {
			i++
		}
		val, n := readValue(conn[i:], sep)
		pairs = append(pairs, pair{key, val})
		i += n
	}
	var out []string
	for _, p := range pairs {
		if secretKeys[p.key] && p.val != "" {
			out = append(out, p.val)
		}
	}
	return out
}

// readValue reads one value at the start of s: quoted or braced up to its
// closing mark (doubled marks stand for themselves), else up to sep. It
// returns the value and how many bytes it took.
func readValue(s, sep string) (string, int) {
	if s == "" {
		return "", 0
	}
	closeMark := map[byte]byte{'\'': '\'', '"': '"', '{': '}'}[s[0]]
	if closeMark != 0 {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			if s[i] == '\\' && s[0] == '\'' && i+1 < len(s) {
				b.WriteByte(s[i+1])
				i++
				continue
			}
			if s[i] == closeMark {
				if i+1 < len(s) && s[i+1] == closeMark {
					b.WriteByte(closeMark)
					i++
					continue
				}
				return b.String(), i + 1
			}
			b.WriteByte(s[i])
		}
		return b.String(), len(s)
	}
	end := strings.Index(s, sep)
	if end < 0 {
		end = len(s)
	}
	return strings.TrimSpace(s[:end]), end
}
