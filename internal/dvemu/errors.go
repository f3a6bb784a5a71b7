package dvemu

import (
	"fmt"
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

// Codes of the Web API writes, as the SDK's ErrorCodes name them.
const (
	codeDuplicateRecord            = "0x80040237" // DuplicateRecord: 412 on If-None-Match: * or a create with a taken id
	codeConcurrencyVersionMismatch = "0x80060882" // ConcurrencyVersionMismatch: 412 on a stale If-Match ETag
)

// apiError is an answer in the Web API error shape, returned by the request
// parsers so handlers can send it as is.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func (e *apiError) write(w http.ResponseWriter) { writeError(w, e.status, e.code, e.message) }

// badRequest is a request Dataverse itself would refuse (400).
func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeBadSegment, message: fmt.Sprintf(format, args...)}
}

// notImplemented is a request the emulator does not serve (501): it refuses
// rather than answer with rows that ignore part of the request.
func notImplemented(format string, args ...any) *apiError {
	return &apiError{status: http.StatusNotImplemented, code: codeBadSegment, message: "The emulator does not support " + fmt.Sprintf(format, args...)}
}
