package dvemu

import (
	"net/http"
	"strconv"
)

// serveWhoAmI answers the WhoAmI function, which clients use to test a
// connection: the caller is the first generated systemuser.
func (e *Emulator) serveWhoAmI(w http.ResponseWriter, r *http.Request) {
	if aerr := metaOptions(odataQuery(r.URL.RawQuery)); aerr != nil {
		aerr.write(w)
		return
	}
	seed := e.opts.RandSeed
	writeObj(w, http.StatusOK, obj{
		{"@odata.context", e.baseURL(r) + "/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse"},
		{"BusinessUnitId", baseID(seed, "businessunit", 0)},
		{"UserId", baseID(seed, "systemuser", 0)},
		{"OrganizationId", metadataID("organization", strconv.FormatInt(seed, 10))},
	})
}
