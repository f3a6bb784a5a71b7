package dvemu

import (
	"net/http"

	"github.com/go-json-experiment/json/jsontext"
)

// Error codes sent in {"error":{"code":..}}. Dataverse sends hex codes that
// are unrelated to the HTTP status.
const (
	codeNotAuthenticated  = "0x8005F101" // AccessTokenExpired: "The requested resource requires authentication."
	codeBadSegment        = "0x80060888" // unknown segment / property / unsupported query option (observed)
	codeNotFound          = "0x80040217" // record not found
	codeExpiredVersion    = "0x80044352" // ExpiredVersionStamp
	codeTrackingDisabled  = "0x80072491" // ChangeTrackingNotEnabledForEntity
	codeBadRequest        = "0x80040203" // InvalidArgument
	codeRequestsExceeded  = "0x80072322"
	codeConcurrencyExceed = "0x80072326"
	codeExecutionExceeded = "0x80072321"
	codeServerError       = "0x80044150" // generic SQL error, seen with 500
)

// writeError sends the Web API error shape.
func writeError(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; odata.metadata=minimal")
	h.Set("OData-Version", "4.0")
	w.WriteHeader(status)
	enc := jsontext.NewEncoder(w)
	_ = enc.WriteToken(jsontext.BeginObject)
	_ = enc.WriteToken(jsontext.String("error"))
	_ = enc.WriteToken(jsontext.BeginObject)
	_ = enc.WriteToken(jsontext.String("code"))
	_ = enc.WriteToken(jsontext.String(code))
	_ = enc.WriteToken(jsontext.String("message"))
	_ = enc.WriteToken(jsontext.String(message))
	_ = enc.WriteToken(jsontext.EndObject)
	_ = enc.WriteToken(jsontext.EndObject)
}
