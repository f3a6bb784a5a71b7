package profile

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// SecretURL is a Key Vault secret identifier,
// https://<vault>.vault.azure.net/secrets/<name>[/<version>].
type SecretURL struct {
	VaultURL string // scheme and host: https://<vault>.vault.azure.net
	Host     string // host, with the port if the URL has one
	Name     string
	Version  string // empty: the latest version
	// Loopback is set for 127.0.0.1, [::1] and localhost: a Key Vault
	// double on this machine, which only local development accepts.
	Loopback bool
}

// VaultDNSSuffixes are the Key Vault host names of the Azure clouds (public,
// China, US Government, Germany).
var VaultDNSSuffixes = []string{".vault.azure.net", ".vault.azure.cn", ".vault.usgovcloudapi.net", ".vault.microsoftazure.de"}

var (
	// Vault names: 3-24 letters, digits and hyphens, starting with a
	// letter, not ending with or doubling a hyphen.
	vaultNameRe  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$`)
	secretNameRe = regexp.MustCompile(`^[0-9A-Za-z-]{1,127}$`)
	versionRe    = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

const secretURLForm = "https://<vault>.vault.azure.net/secrets/<name>[/<version>]"

// ParseSecretURL checks the form of a Key Vault secret URL. Like the DES
// Key Vault URL it is case-sensitive and taken as written: no query,
// fragment, credentials or trailing slash.
func ParseSecretURL(raw string) (SecretURL, error) {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return SecretURL{}, fmt.Errorf("%q is not a URL of the form %s", raw, secretURLForm)
	}
	if u.Scheme != "https" {
		return SecretURL{}, fmt.Errorf("%q: must be https, of the form %s", raw, secretURLForm)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#") {
		return SecretURL{}, fmt.Errorf("%q: no credentials, query or fragment; the form is %s", raw, secretURLForm)
	}
	host := u.Hostname()
	out := SecretURL{VaultURL: "https://" + u.Host, Host: u.Host}
	switch {
	case host == "localhost" || isLoopbackIP(host):
		out.Loopback = true
	case u.Port() != "":
		return SecretURL{}, fmt.Errorf("%q: a Key Vault URL has no port; the form is %s", raw, secretURLForm)
	default:
		vault, ok := "", false
		for _, suf := range VaultDNSSuffixes {
			if strings.HasSuffix(host, suf) {
				vault, ok = strings.TrimSuffix(host, suf), true
				break
			}
		}
		if !ok {
			return SecretURL{}, fmt.Errorf("%q: %s is not a Key Vault host (<vault>.vault.azure.net, or the .vault.azure.cn, .vault.usgovcloudapi.net, .vault.microsoftazure.de clouds)", raw, host)
		}
		if !vaultNameRe.MatchString(vault) || strings.Contains(vault, "--") {
			return SecretURL{}, fmt.Errorf("%q: %q is not a vault name (3-24 letters, digits and hyphens, starting with a letter)", raw, vault)
		}
	}
	parts := strings.Split(u.EscapedPath(), "/")
	if len(parts) < 3 || len(parts) > 4 || parts[0] != "" || parts[1] != "secrets" {
		return SecretURL{}, fmt.Errorf("%q: the path must be /secrets/<name> or /secrets/<name>/<version>; the form is %s", raw, secretURLForm)
	}
	out.Name = parts[2]
	if !secretNameRe.MatchString(out.Name) {
		return SecretURL{}, fmt.Errorf("%q: %q is not a secret name (1-127 letters, digits and hyphens)", raw, out.Name)
	}
	if len(parts) == 4 {
		out.Version = parts[3]
		if !versionRe.MatchString(out.Version) {
			return SecretURL{}, fmt.Errorf("%q: %q is not a secret version (32 lowercase hexadecimal digits)", raw, out.Version)
		}
	}
	return out, nil
}

func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String is the URL in its canonical form.
func (s SecretURL) String() string {
	out := s.VaultURL + "/secrets/" + s.Name
	if s.Version != "" {
		out += "/" + s.Version
	}
	return out
}
