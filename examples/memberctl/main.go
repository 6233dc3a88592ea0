// Command memberctl is the operator's tool for a memberkit database: a
// host's operator (or cron) runs it against a SQLite file or a PostgreSQL
// or MySQL DSN.
//
//	memberctl [--db DSN] <group> <command> [flags]
//
//	orgs create        create an org (and its first admin)
//	members add        add a member
//	members list       list members (filters, pages)
//	members deactivate deactivate a group, or members by ID
//	invite send|resend|cancel|list
//	csv export         write the roster as CSV
//	csv import         --dry-run prints the plan, --apply applies it
//	migrate            apply the schema migrations
//
// --db is a SQLite file path, postgres://… or mysql://user@tcp(host)/db;
// default $MEMBERKIT_DB or ./memberkit.db. Commands act as the system
// actor "memberctl". Exit codes: 0 done, 1 failure, 2 usage, 3 invalid
// input (a field, a CSV line), 4 refused by a rule (seat limit, last
// admin, mass deactivation, stale plan, permission), 5 not found.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
