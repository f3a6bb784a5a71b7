// Package dataverse is the client of the Dataverse (Dynamics 365) Web API
// used to replicate tables: it reads entity metadata into a typed model
// (EntityDefinitions plus one cast query per attribute type), and reads
// changes with OData change tracking — an initial read paged by
// odata.maxpagesize ending in a deltaLink, then delta reads of upserts and
// deletes — decoding each page at token level straight into typed
// record.Records. A row's version is its versionnumber, else the number
// in its @odata.etag. For recovery it reads records by id (RecordsByID:
// current rows plus the ids deleted in the source) and streams every
// (id, version) of an entity (KeysPager). It knows nothing of SQL, queues or
// the Functions host.
//
// Errors callers act on are sentinels usable with errors.Is: ErrRebaseline
// (expired change token: start a new initial read), ErrChangeTrackingDisabled,
// ErrThrottled, ErrMalformed, ErrNotFound, ErrUnauthorized; details are in
// *ResponseError and *MalformedError, which name the entity and page.
//
// The client protects the service and itself: bearer tokens from any
// azcore.TokenCredential (NewCredential builds the usual ones), a cap on
// requests in flight, a token bucket below the 6,000 requests / 300 s
// window, Retry-After honoured on 429 (for every request of the client), and
// jittered backoff on 5xx and transport errors. Tokens never appear in logs
// or errors.
package dataverse
