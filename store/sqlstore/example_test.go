package sqlstore_test

import (
	"context"
	"database/sql"
	"log"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// Wire memberkit to PostgreSQL: the host opens the *sql.DB with the
// driver of its choice (here pgx, imported by the host as
// _ "github.com/jackc/pgx/v5/stdlib"), memberkit imports none. Migrate
// is safe to call from several processes at once. SQLite and MySQL are
// the same with sqlstore.SQLite (modernc.org/sqlite, a file in WAL mode)
// and sqlstore.MySQL (github.com/go-sql-driver/mysql).
func ExampleNew() {
	ctx := context.Background()
	db, err := sql.Open("pgx", "postgres://app@db.internal:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	st, err := sqlstore.New(db, sqlstore.Postgres, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil { // sqlstore.ErrNotMigrated until it is done
		log.Fatal(err)
	}
	kit, err := memberkit.New(st, nil)
	if err != nil {
		log.Fatal(err)
	}
	_ = kit
}
