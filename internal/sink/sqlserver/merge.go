package sqlserver

import (
	"fmt"
	"strings"

	"github.com/dataexport/dataexport/internal/schema"
)

// batchHeader starts both write statements. XACT_ABORT makes any error
// end the batch and doom the transaction: without it some errors only undo
// their own statement and the batch runs on, so a delete could raise a
// tombstone after its row failed to go, or a count be read from half a write.
const batchHeader = "SET NOCOUNT ON;\nSET XACT_ABORT ON;\n"

// writeTarget is everything the two set-based statements need to know.
type writeTarget struct {
	Table     schema.TableName
	Entity    string // DeleteLog's EntityName
	Tombstone schema.TableName
	DeleteLog *schema.TableName // nil: the profile does not write DeleteLog
}

// upsertSQL is one MERGE of a whole batch, read from source (the procedure's
// @rows parameter or the session's staging table; same text either way):
// the batch is deduplicated by Id keeping the highest version, rows whose
// version is not above the entity's tombstone are dropped, and a stored row
// is only replaced by a strictly newer version (with overwrite, a backfill,
// by one not older). It ends by selecting the number of rows written.
//
// HOLDLOCK makes MERGE's read-then-write atomic against a concurrent batch
// (without it two inserts of one new Id can race into a key violation), and
// on the tombstone read it keeps a concurrent delete from slipping between
// the check and the insert, which would resurrect the row.
func upsertSQL(w writeTarget, cols []string, source string, overwrite bool) string {
	id, ver := qi(schema.ColID), qi(schema.ColVersion)
	var b strings.Builder
	b.WriteString(batchHeader)
	fmt.Fprintf(&b, "WITH [ranked] AS (\n    SELECT %s, %s", id, ver)
	for _, c := range cols {
		b.WriteString(", " + qi(c))
	}
	fmt.Fprintf(&b, ",\n        ROW_NUMBER() OVER (PARTITION BY %s ORDER BY %s DESC) AS [rn]\n    FROM %s\n)\n", id, ver, source)
	fmt.Fprintf(&b, "MERGE %s WITH (HOLDLOCK) AS [t]\n", qn(w.Table))
	b.WriteString("USING (\n    SELECT * FROM [ranked] AS [r]\n    WHERE [r].[rn] = 1\n")
	fmt.Fprintf(&b, "      AND NOT EXISTS (SELECT 1 FROM %s AS [d] WITH (HOLDLOCK)\n", qn(w.Tombstone))
	fmt.Fprintf(&b, "          WHERE [d].[TableName] = %s AND [d].[Id] = [r].%s AND [d].[VersionNumber] >= [r].%s)\n", ql(w.Table.Name), id, ver)
	fmt.Fprintf(&b, ") AS [s]\nON [t].%s = [s].%s\n", id, id)
	older := "<"
	if overwrite {
		older = "<="
	}
	fmt.Fprintf(&b, "WHEN MATCHED AND ([t].%s IS NULL OR [t].%s %s [s].%s) THEN UPDATE SET\n", ver, ver, older, ver)
	fmt.Fprintf(&b, "    [t].%s = GETUTCDATE(),\n    [t].%s = [s].%s", qi(schema.ColSinkModifiedOn), ver, ver)
	for _, c := range cols {
		fmt.Fprintf(&b, ",\n    [t].%s = [s].%s", qi(c), qi(c))
	}
	b.WriteString("\nWHEN NOT MATCHED BY TARGET THEN\n")
	fmt.Fprintf(&b, "    INSERT (%s, %s, %s, %s", id, qi(schema.ColSinkCreatedOn), qi(schema.ColSinkModifiedOn), ver)
	for _, c := range cols {
		b.WriteString(", " + qi(c))
	}
	fmt.Fprintf(&b, ")\n    VALUES ([s].%s, GETUTCDATE(), GETUTCDATE(), [s].%s", id, ver)
	for _, c := range cols {
		b.WriteString(", [s]." + qi(c))
	}
	b.WriteString(");\nSELECT @@ROWCOUNT AS [Upserted];")
	return b.String()
}

// deleteSQL applies a batch of deletes read from source (Id, VersionNumber):
// it removes stored rows older than the delete, raises the entity's
// tombstone to the delete's version (never lowers it), writes DeleteLog rows
// for the deletes that took effect and left no row, and selects how many ids
// took effect.
// A replayed delete changes nothing and logs nothing.
func deleteSQL(w writeTarget, source string) string {
	id, ver := qi(schema.ColID), qi(schema.ColVersion)
	var b strings.Builder
	b.WriteString(batchHeader)
	b.WriteString("DECLARE @del TABLE ([Id] uniqueidentifier NOT NULL PRIMARY KEY, [VersionNumber] bigint NOT NULL);\n")
	b.WriteString("DECLARE @hit TABLE ([Id] uniqueidentifier NOT NULL);\n")
	fmt.Fprintf(&b, "INSERT INTO @del ([Id], [VersionNumber])\n    SELECT [Id], MAX([VersionNumber]) FROM %s GROUP BY [Id];\n", source)
	fmt.Fprintf(&b, "DELETE [t] OUTPUT DELETED.%s INTO @hit ([Id])\n", id)
	fmt.Fprintf(&b, "    FROM %s AS [t] WITH (HOLDLOCK)\n    INNER JOIN @del AS [d] ON [d].[Id] = [t].%s\n", qn(w.Table), id)
	fmt.Fprintf(&b, "    WHERE [t].%s IS NULL OR [t].%s <= [d].[VersionNumber];\n", ver, ver)
	fmt.Fprintf(&b, "MERGE %s WITH (HOLDLOCK) AS [tb]\n", qn(w.Tombstone))
	fmt.Fprintf(&b, "USING @del AS [d] ON [tb].[TableName] = %s AND [tb].[Id] = [d].[Id]\n", ql(w.Table.Name))
	b.WriteString("WHEN MATCHED AND [tb].[VersionNumber] < [d].[VersionNumber] THEN\n")
	b.WriteString("    UPDATE SET [tb].[VersionNumber] = [d].[VersionNumber], [tb].[DeletedOn] = GETUTCDATE()\n")
	b.WriteString("WHEN NOT MATCHED BY TARGET THEN\n")
	fmt.Fprintf(&b, "    INSERT ([TableName], [Id], [VersionNumber], [DeletedOn]) VALUES (%s, [d].[Id], [d].[VersionNumber], GETUTCDATE())\n", ql(w.Table.Name))
	b.WriteString("OUTPUT INSERTED.[Id] INTO @hit ([Id]);\n")
	if w.DeleteLog != nil {
		// Log the deletes that took effect and left no row: not a stale
		// delete of a row that a newer upsert keeps. RecordId is text in
		// DES's layout; Dataverse spells ids in lowercase.
		fmt.Fprintf(&b, "INSERT INTO %s ([Id], [EntityName], [RecordId], [SinkDeleteTime], [VersionNumber])\n", qn(*w.DeleteLog))
		fmt.Fprintf(&b, "    SELECT NEWID(), %s, LOWER(CONVERT(nvarchar(36), [d].[Id])), GETUTCDATE(), [d].[VersionNumber]\n", ql(w.Entity))
		b.WriteString("    FROM @del AS [d]\n    WHERE EXISTS (SELECT 1 FROM @hit AS [h] WHERE [h].[Id] = [d].[Id])\n")
		fmt.Fprintf(&b, "      AND NOT EXISTS (SELECT 1 FROM %s AS [t] WHERE [t].%s = [d].[Id]);\n", qn(w.Table), id)
	}
	b.WriteString("SELECT COUNT(DISTINCT [Id]) AS [Deleted] FROM @hit;")
	return b.String()
}
