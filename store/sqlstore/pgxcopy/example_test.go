package pgxcopy_test

import (
	"context"
	"database/sql"
	"log"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/store/sqlstore"
	"github.com/memberkit/memberkit/store/sqlstore/pgxcopy"
)

// A host on pgx gives the PostgreSQL store its Copier: batches of 250
// rows or more (a CSV reconcile's changed and new members, their group
// rows, its events) then go by COPY, in the same transaction as the rest
// of the write.
func Example() {
	ctx := context.Background()
	db, err := sql.Open("pgx", "postgres://app@db.internal:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	st, err := sqlstore.New(db, sqlstore.Postgres, &sqlstore.Options{Copier: pgxcopy.New()})
	if err != nil {
		log.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	kit, err := memberkit.New(st, nil)
	if err != nil {
		log.Fatal(err)
	}
	_ = kit
}
