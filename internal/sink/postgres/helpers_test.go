package postgres

import (
	"testing"

	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

func accountTable(t testing.TB, s *Sink) schema.Table {
	t.Helper()
	tbl, err := schema.Map(sinktest.Account("account"), s.Options().TableOptions())
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func mustColumns(t testing.TB, s *Sink, tbl schema.Table) map[string]schema.ColumnType {
	t.Helper()
	cols, err := s.freshColumns(t.Context(), tbl.TableName)
	if err != nil {
		t.Fatal(err)
	}
	return cols
}
