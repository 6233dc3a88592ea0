package pgxcopy_test

import (
	"context"
	"testing"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
	"github.com/memberkit/memberkit/store/sqlstore/pgxcopy"
	"github.com/memberkit/memberkit/store/storetest"
)

// The contract through PgBouncer in transaction mode with every batch by
// COPY: the COPY, the temporary tables (dropped at commit) and the
// UPDATE … FROM them run in the store's transaction, on the one server
// connection PgBouncer gives it.
func TestContractPgBouncer(t *testing.T) {
	testdb.PgBouncerDB(t) // skips with a message when the DSNs are unset
	c := &counting{Copier: pgxcopy.New()}
	storetest.Run(t, func(t *testing.T) store.Store {
		db, _ := testdb.PgBouncerDB(t)
		s, err := sqlstore.New(db, sqlstore.Postgres, &sqlstore.Options{Copier: c, CopyThreshold: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	})
	if c.rows.Load() == 0 {
		t.Fatal("nothing went by COPY")
	}
}
