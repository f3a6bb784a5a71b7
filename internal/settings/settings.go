// Package settings reads app settings the way the Functions host hands them to
// a custom handler: environment variables, with a local.settings.json-shaped
// file as a fallback for anything the environment does not set.
package settings

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Settings is a read-only view of app settings.
type Settings struct {
	file map[string]string
	env  func(string) (string, bool)
}

// Load reads path (a local.settings.json; "" or a missing file means none).
func Load(path string) (*Settings, error) {
	s := &Settings{file: map[string]string{}, env: os.LookupEnv}
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading settings: %w", err)
	}
	var f struct {
		Values map[string]string `json:"Values"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("settings file %s: %w", path, err)
	}
	for k, v := range f.Values {
		s.file[k] = v
	}
	return s, nil
}

// FromMap is for tests and embedding: settings from a map only.
func FromMap(m map[string]string) *Settings {
	s := &Settings{file: map[string]string{}, env: func(string) (string, bool) { return "", false }}
	for k, v := range m {
		s.file[k] = v
	}
	return s
}

// Get returns a setting: the environment first, then the file.
func (s *Settings) Get(name string) string {
	if v, ok := s.env(name); ok {
		return v
	}
	return s.file[name]
}

// Or returns the setting, or def when it is empty.
func (s *Settings) Or(name, def string) string {
	if v := s.Get(name); v != "" {
		return v
	}
	return def
}

var ref = regexp.MustCompile(`%([A-Za-z0-9_.:-]+)%`)

// Expand resolves %SETTING% references the way binding expressions do.
func (s *Settings) Expand(v string) (string, error) {
	var missing []string
	out := ref.ReplaceAllStringFunc(v, func(m string) string {
		name := m[1 : len(m)-1]
		val := s.Get(name)
		if val == "" {
			missing = append(missing, name)
		}
		return val
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%q refers to unset app setting(s) %s", v, strings.Join(missing, ", "))
	}
	return out, nil
}

// Env returns every setting as KEY=VALUE, file first then environment, the
// way the host passes them to the handler process.
func (s *Settings) Env() []string {
	var out []string
	for k, v := range s.file {
		if _, ok := s.env(k); !ok {
			out = append(out, k+"="+v)
		}
	}
	return append(out, os.Environ()...)
}
