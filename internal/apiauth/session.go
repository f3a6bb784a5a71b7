package apiauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"
)

// SessionCookie is the cookie of a browser signed in through the login
// form of dataexport run: HttpOnly (no script can read it), SameSite=Strict
// (no other site's page sends it), scoped to the server, holding a random
// token that means nothing outside this process's memory.
const SessionCookie = "dataexport_session"

// SessionTTL is how long a session lasts; a restart ends every session.
const SessionTTL = 8 * time.Hour

type session struct {
	p       Principal
	expires time.Time
}

// StartSession signs a principal in for SessionTTL (less when its token
// expires sooner) and returns the cookie value.
func (a *Authenticator) StartSession(p Principal, until time.Time) (string, time.Time) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	exp := a.o.Now().Add(SessionTTL)
	if !until.IsZero() && until.Before(exp) {
		exp = until
	}
	p.Session = true
	a.sessMu.Lock()
	defer a.sessMu.Unlock()
	if a.sessions == nil {
		a.sessions = map[string]session{}
	}
	now := a.o.Now()
	for k, s := range a.sessions {
		if now.After(s.expires) {
			delete(a.sessions, k)
		}
	}
	a.sessions[sessionKey(tok)] = session{p: p, expires: exp}
	return tok, exp
}

// Session returns who r's session cookie signed in (the login form's):
// the web UI's credential, as App Service Authentication's session cookie
// is in Azure.
func (a *Authenticator) Session(r *http.Request) (Principal, error) {
	if !a.Enabled() {
		return Principal{}, &Error{Reason: "sign-in is off: " + SettingHelp}
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return Principal{}, &Error{Reason: "not signed in: sign in at /.auth/login"}
	}
	return a.session(c.Value)
}

// EndSession signs a session out.
func (a *Authenticator) EndSession(tok string) {
	a.sessMu.Lock()
	delete(a.sessions, sessionKey(tok))
	a.sessMu.Unlock()
}

func (a *Authenticator) session(tok string) (Principal, error) {
	a.sessMu.Lock()
	s, ok := a.sessions[sessionKey(tok)]
	a.sessMu.Unlock()
	switch {
	case !ok:
		return Principal{}, &Error{Reason: "the session is not known (signed out, or the server restarted): sign in again at /.auth/login"}
	case a.o.Now().After(s.expires):
		a.EndSession(tok)
		return Principal{}, &Error{Reason: "the session has expired: sign in again at /.auth/login"}
	}
	return s.p, nil
}

// sessionKey is what the map holds: a digest, so that the tokens
// themselves are not kept.
func sessionKey(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return string(sum[:])
}

// sessionCookie is the cookie that carries tok (an empty tok and a zero
// time clear it).
func sessionCookie(tok string, exp time.Time, secure bool) *http.Cookie {
	c := &http.Cookie{Name: SessionCookie, Value: tok, Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode}
	if tok == "" {
		c.MaxAge = -1
	} else {
		c.Expires = exp
	}
	return c
}
