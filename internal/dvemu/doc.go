// Package dvemu emulates the parts of the Microsoft Dataverse Web API a
// change-tracking replicator uses, following the documented wire format
// (see /work/shared/spec/dataverse-webapi.md). It knows nothing of the rest
// of the product.
//
// Web API (bearer token required, under /api/data/v9.2/):
//
//	GET EntityDefinitions[?$select&$filter&$expand=Attributes(...),ManyToManyRelationships]
//	GET EntityDefinitions(LogicalName='x')[?$select&$expand=Attributes($select=..;$filter=..)]
//	GET EntityDefinitions(LogicalName='x')/Attributes[(LogicalName='y')][/Microsoft.Dynamics.CRM.<T>AttributeMetadata][?$select&$expand=OptionSet,GlobalOptionSet]
//	GET EntityDefinitions(LogicalName='x')/ManyToManyRelationships
//	GET GlobalOptionSetDefinitions[(Name='x')]
//	GET {entityset}?$select=..   with Prefer: odata.track-changes, odata.maxpagesize=N, odata.include-annotations="..."
//	GET {entityset}?$select=..&$skiptoken=..   (nextLink)   and   ...&$deltatoken=..   (deltaLink)
//	GET {entityset}/$count[?$deltatoken=..]
//	GET {entityset}(<guid>)[?$select=..]
//	GET {entityset}?$select=..[&$top=N]   plain read (other query options answer 501)
//	GET WhoAmI
//	GET RetrieveMetadataChanges(Query=@p1[,ClientVersionStamp=@p2])?@p1=<json>&@p2='<stamp>'
//
// Admin API (no token): /_emulator/entities/{logicalname}[/{id}], see admin.go.
// Command-line flags for Options (dataexport emulator): see flags.go.
// OAuth2 stand-in: POST /{tenant}/oauth2/v2.0/token and
// GET /{tenant}/v2.0/.well-known/openid-configuration, see oauth.go.
//
// Choices where Dataverse's behaviour is unconfirmed (spec section 10):
//   - $filter/$orderby/$expand/$top with track-changes: HTTP 400, code
//     0x80060888, message exactly as documented.
//   - Expired $deltatoken: code 0x80044352, HTTP status Options.ExpiredTokenStatus (400).
//   - Track-changes on an untracked entity: 400 code 0x80072491, or with
//     Options.UntrackedNoDeltaLink a plain read without deltaLink.
//   - Missing or wrong bearer token: 401, code 0x8005F101 ("The requested
//     resource requires authentication."), plus WWW-Authenticate.
//   - The deltaLink comes only on the last page of a paged read (OData rule);
//     its version is the org version when the read started, so changes made
//     while paging are delivered again by the next delta.
//   - Delta token: "<version>!MM/dd/yyyy HH:mm:ss", the time in UTC.
//   - Links minted before this emulator started (an earlier run) or naming a
//     version the org has not reached answer 0x80044352 too: there is no
//     change history for them, so the client must read everything again.
//   - The $skiptoken cookie is self-contained (snapshot version, position;
//     nothing is kept server-side), so a nextLink stored by a client resumes
//     after the client restarts.
//   - Paging order is by primary id. Generated ids start with an
//     entity-specific offset plus the row index, so they sort by index.
//   - lookuplogicalname and associatednavigationproperty annotations are
//     sent when requested unless Options.OmitLookupAnnotations;
//     FormattedValue annotations (labels, $ amounts, en-US dates, lookup
//     target names) and globalmetadataversion are sent when requested.
//   - A money column in $select brings _transactioncurrencyid_value along.
//   - Service protection defaults to the real 6,000 requests and 20 minutes
//     of execution per 300 s and 52 concurrent requests (per emulator), see
//     Faults.
package dvemu
