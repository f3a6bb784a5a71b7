package apiauth

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// LoginFront is, for dataexport run, what App Service Authentication is in
// Azure: the sign-in in front of the host. It serves /.auth/login (a form
// that takes the admin key, or an Entra ID access token, once, and gives
// the browser an HttpOnly session cookie instead), /.auth/logout, and "/"
// (to the UI); a browser that asks for a file of the UI (under uiPath, not
// under uiAPIPath, where the UI's script calls the API) without a session
// gets the form, with status 401. Everything else goes to next; the host
// names the session's principal to the web UI's function (Session), and
// checks the API's routes' credentials itself (Authenticate).
func (a *Authenticator) LoginFront(next http.Handler, uiPath, uiAPIPath string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uiFile := strings.HasPrefix(r.URL.Path+"/", uiPath) && !strings.HasPrefix(r.URL.Path+"/", uiAPIPath) && (r.Method == http.MethodGet || r.Method == http.MethodHead)
		switch {
		case r.URL.Path == "/.auth/login":
			a.login(w, r, uiPath)
			return
		case r.URL.Path == "/.auth/logout":
			if c, err := r.Cookie(SessionCookie); err == nil {
				a.EndSession(c.Value)
			}
			http.SetCookie(w, sessionCookie("", time.Time{}, r.TLS != nil))
			http.Redirect(w, r, uiPath, http.StatusSeeOther)
			return
		case r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			http.Redirect(w, r, uiPath, http.StatusSeeOther)
			return
		case uiFile && !a.Enabled():
			a.loginPage(w, http.StatusServiceUnavailable, r.URL.RequestURI(), "sign-in is off, so the UI is not served: "+SettingHelp, uiPath)
			return
		case uiFile:
			if _, err := a.Session(r); err != nil {
				a.loginPage(w, http.StatusUnauthorized, r.URL.RequestURI(), "", uiPath)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (a *Authenticator) login(w http.ResponseWriter, r *http.Request, uiPath string) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		a.loginPage(w, http.StatusOK, r.URL.Query().Get("post_login_redirect_uri"), "", uiPath)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "GET or POST", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		a.loginPage(w, http.StatusBadRequest, "", "the form cannot be read", uiPath)
		return
	}
	back := r.PostForm.Get("redirect")
	cred := strings.TrimSpace(r.PostForm.Get("credential"))
	if !a.Enabled() {
		a.loginPage(w, http.StatusServiceUnavailable, back, "sign-in is off: "+SettingHelp, uiPath)
		return
	}
	probe, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "/", nil)
	var until time.Time
	if strings.Count(cred, ".") == 2 && a.o.TenantID != "" {
		probe.Header.Set("Authorization", "Bearer "+cred)
		if claims, _, err := jwt.NewParser().ParseUnverified(cred, jwt.MapClaims{}); err == nil {
			if exp, err := claims.Claims.GetExpirationTime(); err == nil && exp != nil {
				until = exp.Time
			}
		}
	} else {
		probe.Header.Set("x-functions-key", cred)
	}
	p, err := a.Authenticate(probe)
	if cred == "" {
		err = &Error{Reason: "enter the admin key (ADMIN_API_KEY) or an Entra ID access token"}
	}
	if err != nil {
		a.loginPage(w, http.StatusUnauthorized, back, err.Error(), uiPath)
		return
	}
	tok, exp := a.StartSession(p, until)
	http.SetCookie(w, sessionCookie(tok, exp, r.TLS != nil))
	http.Redirect(w, r, safeRedirect(back, uiPath), http.StatusSeeOther)
}

// safeRedirect keeps a post-login redirect on the UI of this server.
func safeRedirect(back, uiPath string) string {
	u, err := url.Parse(back)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, uiPath) || strings.Contains(u.Path, "..") {
		return uiPath
	}
	out := u.RequestURI()
	if u.Fragment != "" {
		out += "#" + u.EscapedFragment()
	}
	return out
}

const loginStyle = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1b1f24}
main{max-width:28rem;margin:10vh auto;background:#fff;border:1px solid #c9ced6;border-radius:6px;padding:1.5rem 2rem}
h1{font-size:1.4rem;margin:0 0 1rem}label{display:block;font-weight:600;margin-bottom:.25rem}
input{box-sizing:border-box;width:100%;font:inherit;padding:.5rem;border:1px solid #6b7380;border-radius:4px}
button{margin-top:1rem;font:inherit;padding:.5rem 1.25rem;border:0;border-radius:4px;background:#0b5cad;color:#fff;cursor:pointer}
input:focus,button:focus{outline:3px solid #f0a400;outline-offset:2px}
.error{background:#fdecea;border:1px solid #b3261e;color:#7a1710;padding:.5rem .75rem;border-radius:4px}
p.hint{color:#4a5260;font-size:.9rem}`

// loginScript keeps the page's fragment (the UI's route, e.g.
// #/profiles/crm) across the sign-in: the browser never sends it, so the
// form's redirect gets it here.
const loginScript = `(function(){var r=document.getElementById('redirect');if(r&&location.hash&&r.value.indexOf('#')<0){r.value+=location.hash;}})();`

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

var loginCSP = "default-src 'none'; style-src " + cspHash(loginStyle) + "; script-src " + cspHash(loginScript) + "; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

var loginTmpl = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · dataexport</title><style>{{.Style}}</style></head>
<body><main>
<h1>Sign in to dataexport</h1>
{{if .Error}}<p class="error" role="alert" id="login-error">{{.Error}}</p>{{end}}
<form method="post" action="/.auth/login">
<input type="hidden" name="redirect" id="redirect" value="{{.Redirect}}">
<label for="credential">Admin key or Entra ID access token</label>
<input id="credential" name="credential" type="password" autocomplete="off" required autofocus{{if .Error}} aria-describedby="login-error"{{end}}>
<p class="hint">The key is the ADMIN_API_KEY setting of <code>dataexport run</code>. It is sent once; the browser keeps only a session cookie that no script can read, valid for 8 hours or until the server restarts.</p>
<button type="submit">Sign in</button>
</form>
</main><script>{{.Script}}</script></body></html>`))

func (a *Authenticator) loginPage(w http.ResponseWriter, status int, back, msg, uiPath string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", loginCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = loginTmpl.Execute(w, struct {
		Style    template.CSS
		Script   template.JS
		Redirect string
		Error    string
	}{template.CSS(loginStyle), template.JS(loginScript), safeRedirect(back, uiPath), msg})
}
