// Package dvemu emulates the parts of the Microsoft Dataverse Web API a
// change-tracking replicator uses, following the documented wire format
// (see /work/shared/spec/dataverse-webapi.md). It knows nothing of the rest
// of the product. What it does not implement it refuses, with the Web API
// error shape ({"error":{"code","message"}}): 400 where Dataverse itself
// refuses the request, 501 where only the emulator lacks the feature. It
// never answers a request while ignoring part of it.
//
// Web API (bearer token required, under /api/data/v9.2/):
//
//	GET EntityDefinitions[?$select&$filter&$expand=Attributes(..),ManyToOneRelationships(..),OneToManyRelationships(..),ManyToManyRelationships(..)]
//	GET EntityDefinitions(LogicalName='x')[?$select&$expand=...]
//	GET EntityDefinitions(LogicalName='x')/Attributes[(LogicalName='y')][/Microsoft.Dynamics.CRM.<T>AttributeMetadata][?$select&$filter&$expand=OptionSet,GlobalOptionSet]
//	GET EntityDefinitions(LogicalName='x')/{ManyToOne,OneToMany,ManyToMany}Relationships[(SchemaName='r')][?$select&$filter]
//	GET RelationshipDefinitions[(SchemaName='r')][/Microsoft.Dynamics.CRM.{OneToMany,ManyToMany}RelationshipMetadata][?$select&$filter]
//	GET GlobalOptionSetDefinitions[(Name='x')][/Microsoft.Dynamics.CRM.OptionSetMetadata][?$select]
//	GET {entityset}?$select=..   with Prefer: odata.track-changes, odata.maxpagesize=N, odata.include-annotations="..."
//	GET {entityset}?$select=..&$skiptoken=..   (nextLink)   and   ...&$deltatoken=..   (deltaLink)
//	GET {entityset}/$count[?$deltatoken=..|?$filter=..]
//	GET {entityset}?$select&$filter&$orderby&$top&$count=true   plain read
//	GET {entityset}?fetchXml=<fetch ..>[&$count=true]
//	GET {entityset}(<guid>)[?$select=..]   (If-None-Match: W/"n" answers 304)
//	POST {entityset}, PATCH {entityset}(<guid>), DELETE {entityset}(<guid>)
//	GET WhoAmI
//	GET RetrieveTotalRecordCount(EntityNames=@p1)?@p1=["account"]   (or EntityNames=['account',...])
//	GET RetrieveMetadataChanges(Query=@p1[,ClientVersionStamp=@p2])?@p1=<json>&@p2='<stamp>'
//
// Plain reads: $filter takes eq, ne, gt, ge, lt, le, and, or, not,
// parentheses and Microsoft.Dynamics.CRM.In / NotIn (inline or with
// parameter aliases) on the entity's own simple columns, its primary key,
// versionnumber and lookups as _<name>_value. $orderby takes the same
// columns but lookups. Other functions, operators, navigation paths and
// lambdas answer 501.
//
// FetchXML: one entity, attribute or all-attributes (none = all), filter
// (and/or, nested) with condition operators eq, ne, neq, gt, ge, lt, le,
// null, not-null, in, not-in, like and not-like (% and _ only), order on
// non-choice columns, top, count, page and paging-cookie. link-entity,
// aggregates, aliases, distinct and other operators answer 501.
//
// Writes take columns by logical name and lookups as
// <navigation>@odata.bind ("/accounts(<id>)"; a polymorphic lookup's
// navigation is <lookup>_<target>, an owner's is ownerid). They feed change
// tracking exactly as the admin API does: every write stamps a new version,
// a delete leaves a tombstone.
//
// Admin API (no token): /_emulator/entities/{logicalname}[/{id}], see admin.go.
// Command-line flags for Options (dataexport emulator): see flags.go.
// OAuth2 stand-in: POST /{tenant}/oauth2/v2.0/token and
// GET /{tenant}/v2.0/.well-known/openid-configuration, see oauth.go.
//
// Choices where Dataverse's behaviour is unconfirmed (spec section 10) or
// the documentation is silent:
//   - $filter/$orderby/$expand/$top with track-changes: HTTP 400, code
//     0x80060888, message exactly as documented. $count and fetchXml with
//     track-changes: 501.
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
//   - Paging order is by primary id, compared as lowercase text. Dataverse
//     orders by the primary key too when no order is given (documented), but
//     SQL Server compares uniqueidentifiers by byte groups, not as text:
//     clients must not depend on either order. For the same reason gt, ge,
//     lt and le on Guid columns answer 501.
//   - Generated ids start with an entity-specific offset plus the row index,
//     so they sort by index.
//   - lookuplogicalname and associatednavigationproperty annotations are
//     sent when requested unless Options.OmitLookupAnnotations;
//     FormattedValue annotations (labels, $ amounts, en-US dates, lookup
//     target names) and globalmetadataversion are sent when requested.
//   - A lookup's auxiliary attributes (AttributeOf a lookup: <lookup>name,
//     <lookup>yominame, <lookup>type) are metadata only, as in Dataverse's
//     CSDL: $select naming one answers 400, and their values travel only as
//     the lookup's annotations. The lookup's FormattedValue is the target's
//     primary name (none when the target has none). Other auxiliary
//     attributes (an image's, a money column's _base, a rollup's _date and
//     _state) hold values like any column and are read-only.
//   - Deleting a row does not clear lookups pointing to it in other rows
//     (Dataverse's cascade rules are not emulated); such a lookup gets no
//     FormattedValue.
//   - Options.OmitVersionNumber leaves versionnumber out of every data row,
//     even when selected, as Microsoft's change-tracking examples show rows
//     (the version is then only in @odata.etag, W/"<version>").
//   - A money column in $select brings _transactioncurrencyid_value along.
//   - Service protection defaults to the real 6,000 requests and 20 minutes
//     of execution per 300 s and 52 concurrent requests (per emulator), see
//     Faults.
//   - Unknown system query options ($nope) answer 400 "The query parameter
//     '$nope' is not supported."; known OData options the emulator does not
//     serve ($apply, $search, $skip, $compute, $expand on data...) and any
//     other parameter (savedQuery, custom names) answer 501. Parameter
//     aliases (@p1) are accepted wherever a filter can use them.
//   - Filters follow SQL on nulls: only "eq null" and "ne null" match a null
//     column ("ne 'x'" skips nulls); string comparisons and ordering are
//     case-insensitive (documented for filters).
//   - $orderby other than the primary key sorts every matching row per page
//     request; ties break on the primary key; nulls sort first ascending.
//     Its nextLink carries the position of the next page (position="n" in
//     the cookie), so rows changed between pages may shift.
//   - nextLinks of plain reads repeat $select, $filter, $orderby, $count and
//     parameter aliases (the documented nextLink of a filtered read carries
//     $filter).
//   - $count=true: @odata.count is the number of matching rows, at most
//     5,000, on every page. totalrecordcount/totalrecordcountlimitexceeded
//     are sent when requested: -1/false without $count (documented).
//     GET {set}/$count is not capped.
//   - fetchXml: null columns are left out of rows (documented); the context
//     lists the attributes and the primary key; odata.maxpagesize answers
//     501 (page with count and page); top with count or page, and top above
//     5,000, answer 400. The paging cookie names only the primary key; it is
//     honoured when the fetch orders by the primary key (or not at all),
//     otherwise the page attribute decides (simple paging). $count=true
//     gives @odata.count, as the documented example shows. Choice columns
//     cannot be ordered (FetchXML orders them by label).
//   - Metadata queries: $select or $filter naming a property the object
//     does not have answers 400 "Could not find a property named ..." (also
//     for real properties the emulator does not render); options other than
//     $select, $filter and $expand answer 501, and so does a metadata
//     $filter other than eq/ne clauses joined by and. Uncast RelationshipDefinitions
//     (collection or keyed) return only RelationshipMetadataBase properties,
//     like uncast Attributes return AttributeMetadata's.
//   - 1:N relationships are derived from lookups, one per target entity of
//     the org. Their SchemaName is Dataverse's for the sample org's well-known
//     lookups (account_primary_contact, contact_customer_accounts, ...) and
//     <referenced>_<referencing>_<lookup> otherwise; the referenced side's
//     navigation property is the SchemaName, the referencing side's the
//     lookup (or <lookup>_<target> when polymorphic).
//   - RetrieveTotalRecordCount: Dataverse counts from a snapshot taken
//     within the last 24 hours; the emulator's snapshot is the current
//     count of live rows. An unknown logical name answers 404.
//   - Writes: POST answers 204 with OData-EntityId, or 201 with the row under
//     Prefer: return=representation (then without OData-EntityId, as
//     documented). PATCH answers 204 with OData-EntityId whether it updated
//     or created (OData requires the header for an upsert), 200 (update) or
//     201 (create) with return=representation. If-Match: * on a missing row
//     answers 404 0x80040217 "<entity> With Id = <id> Does Not Exist";
//     If-None-Match: * on an existing row 412 0x80040237 "A record with
//     matching key values already exists."; an If-Match ETag of another
//     version 412 0x80060882 "The version of the existing record doesn't
//     match the RowVersion property provided." (documented messages; the
//     documented code is empty, the emulator sends the SDK's codes).
//     "If-None-Match: null" is ignored (the recommended read header).
//   - Writes refuse (400) columns that are not valid for create or update
//     (the primary key is accepted in a body and must equal the URL's),
//     _<lookup>_value properties and unknown properties; instance
//     annotations other than @odata.bind and @odata.type are ignored, as
//     OData allows. Deep insert, collection binds, PUT of single
//     properties, $ref, alternate keys, $batch and writes to intersect
//     entities, activityparty and activitypointer answer 501. A POST may
//     reuse the id of a deleted row: change tracking then shows an upsert.
//   - A request URL longer than Options.MaxURLLength (32,768 characters by
//     default; the documentation gives no number for a GET, only 64 KB
//     inside $batch) answers 414.
package dvemu
