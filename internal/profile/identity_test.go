package profile

import (
	"strings"
	"testing"
)

func TestSameDestinationByIdentity(t *testing.T) {
	const pg = "postgres://app:old-secret@db.example.com:5432/crm?sslmode=require"
	const ms = "sqlserver://app:Old-Secret@sql.example.com:1433?database=CRM&encrypt=true"
	tests := []struct {
		name    string
		a, b    Destination
		schemaB string
		prefixB string
		same    bool
	}{
		{"identical", Destination{Type: Postgres, Connection: pg}, Destination{Type: Postgres, Connection: pg}, "", "", true},
		{"postgres password rotated", Destination{Type: Postgres, Connection: pg}, Destination{Type: Postgres, Connection: "postgres://app:new-secret@db.example.com:5432/crm?sslmode=require"}, "", "", true},
		{"postgres other options and user", Destination{Type: Postgres, Connection: pg}, Destination{Type: Postgres, Connection: "postgres://svc:x@DB.example.com/crm?sslmode=verify-full&connect_timeout=5"}, "", "", true},
		{"postgres key=value form", Destination{Type: Postgres, Connection: pg}, Destination{Type: Postgres, Connection: "host=db.example.com port=5432 dbname=crm user=app password=rotated sslmode=require"}, "", "", true},
		{"postgres other database", Destination{Type: Postgres, Connection: pg}, Destination{Type: Postgres, Connection: "postgres://app:old-secret@db.example.com:5432/crm2?sslmode=require"}, "", "", false},
		{"postgres other host", Destination{Type: Postgres, Connection: pg}, Destination{Type: Postgres, Connection: "postgres://app:old-secret@db2.example.com:5432/crm?sslmode=require"}, "", "", false},
		{"postgres other port", Destination{Type: Postgres, Connection: pg}, Destination{Type: Postgres, Connection: "postgres://app:old-secret@db.example.com:5433/crm?sslmode=require"}, "", "", false},
		{"postgres other schema", Destination{Type: Postgres, Connection: pg}, Destination{Type: Postgres, Connection: pg}, "sales", "", false},
		{"postgres other prefix", Destination{Type: Postgres, Connection: pg}, Destination{Type: Postgres, Connection: pg}, "", "crm", false},
		{"sqlserver password rotated", Destination{Type: SQLServer, Connection: ms}, Destination{Type: SQLServer, Connection: "sqlserver://app:New-Secret@sql.example.com:1433?database=CRM&encrypt=true"}, "", "", true},
		{"sqlserver ADO form, database case", Destination{Type: SQLServer, Connection: ms}, Destination{Type: SQLServer, Connection: "server=SQL.example.com,1433;user id=app;password=Rotated;database=crm"}, "", "", true},
		{"sqlserver other database", Destination{Type: SQLServer, Connection: ms}, Destination{Type: SQLServer, Connection: "sqlserver://app:Old-Secret@sql.example.com:1433?database=CRM2"}, "", "", false},
		{"sqlserver named instance", Destination{Type: SQLServer, Connection: ms}, Destination{Type: SQLServer, Connection: "sqlserver://app:Old-Secret@sql.example.com/INST?database=CRM"}, "", "", false},
		{"sqlite same file", Destination{Type: SQLite, Connection: "/data/x.db"}, Destination{Type: SQLite, Connection: "/data/./x.db"}, "", "", true},
		{"sqlite other file", Destination{Type: SQLite, Connection: "/data/x.db"}, Destination{Type: SQLite, Connection: "/data/y.db"}, "", "", false},
		{"type changed", Destination{Type: Postgres, Connection: pg}, Destination{Type: SQLServer, Connection: pg}, "", "", false},
		{"unparseable strings differ", Destination{Type: Postgres, Connection: "postgres://%zz"}, Destination{Type: Postgres, Connection: "postgres://%zy"}, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Profile{Name: "p", Destination: tt.a}
			q := Profile{Name: "p", Destination: tt.b, Schema: tt.schemaB, Prefix: tt.prefixB}
			if got := p.SameDestination(q); got != tt.same {
				a, _ := tt.a.Identity()
				b, _ := tt.b.Identity()
				t.Fatalf("SameDestination = %v, want %v (identities %+v, %+v)", got, tt.same, a, b)
			}
			if got := q.SameDestination(p); got != tt.same {
				t.Fatalf("not symmetric")
			}
		})
	}
}

// The identity holds no secret of the string.
func TestIdentityHasNoSecret(t *testing.T) {
	for _, d := range []Destination{
		{Type: Postgres, Connection: "postgres://app:S3cretPw@db.example.com/crm"},
		{Type: SQLServer, Connection: "sqlserver://app:S3cretPw@sql.example.com?database=crm"},
		{Type: SQLServer, Connection: "server=sql.example.com;user id=app;password=S3cretPw;database=crm"},
	} {
		id, ok := d.Identity()
		if !ok {
			t.Fatalf("%s: not parsed", d.Type)
		}
		if s := id.Host + id.Port + id.Instance + id.Database; len(s) == 0 || strings.Contains(s, "S3cretPw") || strings.Contains(s, "app") {
			t.Errorf("%s identity %+v holds user or password", d.Type, id)
		}
	}
}
