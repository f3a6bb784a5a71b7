package handlers

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LoadTriggerBindings reads every <dir>/<Function>/function.json and returns,
// per function name, the name of its trigger binding: the key under which the
// host puts the trigger value in an invocation's Data. In Azure dir is the app
// root (the handler's working directory); in this repository it is functions/.
func LoadTriggerBindings(dir string) (map[string]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*", "function.json"))
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var f struct {
			Bindings []struct {
				Name      string `json:"name"`
				Type      string `json:"type"`
				Direction string `json:"direction"`
			} `json:"bindings"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		name := ""
		for _, bd := range f.Bindings {
			if bd.Direction == "in" && strings.HasSuffix(bd.Type, "Trigger") {
				name = bd.Name
				break
			}
		}
		if name == "" {
			return nil, fmt.Errorf("%s: no trigger binding with a name", p)
		}
		out[filepath.Base(filepath.Dir(p))] = name
	}
	return out, nil
}
