package manage

import (
	"context"
	"fmt"
	"strings"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/profile"
)

// CheckStatus is the outcome of one check of Test.
type CheckStatus string

const (
	Pass CheckStatus = "pass"
	Fail CheckStatus = "fail"
	// Warn: works, but not as it should be in Azure (a connection string
	// held in the profile instead of Key Vault).
	Warn CheckStatus = "warn"
	// Skipped: a check it depends on failed.
	Skipped CheckStatus = "skipped"
)

// Check is one check of Test.
type Check struct {
	Name   string      `json:"name"` // secret, destination, permissions, entity:<name>
	Status CheckStatus `json:"status"`
	Detail string      `json:"detail"`
}

// TestReport is what Test found. OK is false when any check failed.
type TestReport struct {
	Profile string  `json:"profile"`
	OK      bool    `json:"ok"`
	Checks  []Check `json:"checks"`
}

// Test runs every check on a saved profile and reports each with a reason:
// the connection string's secret is readable (or the profile does not use
// Key Vault), the destination accepts a connection, its login has the
// permissions replication needs (SQL Server: the Data Export Service's
// list; PostgreSQL: the equivalent grants), and every entity exists in the
// org with change tracking enabled. A failed check is a result, not an
// error: the error is for a profile that cannot be read.
func (s *Service) Test(ctx context.Context, name string) (TestReport, error) {
	p, err := s.get(ctx, name)
	if err != nil {
		return TestReport{}, err
	}
	rep := TestReport{Profile: name}
	add := func(c Check) { rep.Checks = append(rep.Checks, c) }

	withConn := p
	secretOK := true
	if u := p.Destination.KeyVaultSecretURL; u != "" {
		cctx, cancel := context.WithTimeout(ctx, s.o.CheckTimeout)
		conn, err := s.d.Secrets.Resolve(cctx, u)
		cancel()
		if err != nil {
			secretOK = false
			add(Check{"secret", Fail, err.Error()})
		} else {
			withConn.Destination.Connection = conn
			add(Check{"secret", Pass, "read from Key Vault secret " + u})
		}
	} else {
		add(Check{"secret", Warn, "not using Key Vault: the connection string is stored in the profile (local development, or a profile saved before Key Vault was read); store it as a Key Vault secret and set destination.keyVaultSecretUrl"})
	}

	if !secretOK {
		add(Check{"destination", Skipped, "needs the connection string from Key Vault"})
		add(Check{"permissions", Skipped, "needs the connection string from Key Vault"})
	} else {
		cctx, cancel := context.WithTimeout(ctx, s.o.CheckTimeout)
		dc := s.d.Checker.CheckDestination(cctx, withConn)
		cancel()
		switch {
		case dc.Reachable != nil:
			add(Check{"destination", Fail, dc.Reachable.Error()})
			add(Check{"permissions", Skipped, "needs a connection"})
		default:
			add(Check{"destination", Pass, fmt.Sprintf("connected to the %s destination", p.Destination.Type)})
			switch {
			case dc.PermissionsErr != nil:
				add(Check{"permissions", Fail, "the check failed: " + dc.PermissionsErr.Error()})
			case len(dc.Missing) > 0:
				add(Check{"permissions", Fail, "the login lacks: " + strings.Join(dc.Missing, "; ")})
			case dc.PermissionsNote != "":
				add(Check{"permissions", Pass, dc.PermissionsNote})
			default:
				add(Check{"permissions", Pass, permissionsPassed(p.Destination.Type)})
			}
		}
	}

	cat, err := s.d.Source.Catalog(ctx)
	byName := map[string]dataverse.CatalogEntity{}
	if cat != nil {
		for _, e := range cat.Entities {
			byName[e.LogicalName] = e
		}
	}
	for _, e := range p.Entities {
		c := Check{Name: "entity:" + e}
		switch reason := eligibility(byName, e); {
		case err != nil:
			c.Status, c.Detail = Fail, "the Dataverse org's tables could not be read: "+err.Error()
		case reason != "":
			c.Status, c.Detail = Fail, reason
		default:
			c.Status, c.Detail = Pass, "exists, change tracking enabled"
		}
		add(c)
	}
	rep.OK = true
	for _, c := range rep.Checks {
		rep.OK = rep.OK && c.Status != Fail
	}
	return rep, nil
}

func permissionsPassed(typ string) string {
	switch typ {
	case profile.SQLServer:
		return "the login has every permission the Data Export Service required (CREATE TABLE, TYPE, VIEW, PROCEDURE; ALTER ANY USER; VIEW DATABASE STATE; ALTER, INSERT, DELETE, SELECT, UPDATE, EXECUTE, REFERENCES on the schema)"
	case profile.Postgres:
		return "the login can create the schema or tables in it, stage batches, and read, write and alter every table already there"
	}
	return "nothing missing"
}
