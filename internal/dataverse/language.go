package dataverse

import (
	"context"
	"fmt"
)

// BaseLanguage is the org's base language, the organization table's
// languagecode (an LCID such as 1033), read once per client: it is chosen
// when the org is provisioned and does not change.
func (c *Client) BaseLanguage(ctx context.Context) (int, error) {
	c.langMu.Lock()
	defer c.langMu.Unlock()
	if c.lang != 0 {
		return c.lang, nil
	}
	var orgs struct {
		Value []struct {
			LanguageCode *int `json:"languagecode"`
		}
	}
	if err := c.getJSON(ctx, "organization", c.base+"organizations?$select=languagecode", &orgs); err != nil {
		return 0, fmt.Errorf("dataverse: base language: %w", err)
	}
	if len(orgs.Value) != 1 || orgs.Value[0].LanguageCode == nil || *orgs.Value[0].LanguageCode <= 0 {
		return 0, &MalformedError{Entity: "organization", Reason: fmt.Sprintf("%d organization rows, want one with a languagecode", len(orgs.Value))}
	}
	c.lang = *orgs.Value[0].LanguageCode
	return c.lang, nil
}
