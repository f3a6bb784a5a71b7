package failures

import (
	"testing"

	"github.com/dataexport/dataexport/internal/azuritetest"
)

func TestMain(m *testing.M) { azuritetest.Main(m) }

func connString() string { return azuritetest.ConnString() }

func uniqueName(prefix string) string { return azuritetest.UniqueName(prefix) }
