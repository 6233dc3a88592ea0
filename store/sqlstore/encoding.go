package sqlstore

import (
	"database/sql"
	"encoding/hex"
	"strings"
	"time"
)

// How values are stored: times as microseconds since the Unix epoch (0 or
// NULL for none), token hashes in hex, groups joined by newlines.

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func hexHash(h []byte) string {
	if len(h) == 0 {
		return ""
	}
	return hex.EncodeToString(h)
}

// Groups are stored joined by a newline; labels never contain control
// characters (membership.ValidateGroups).
func joinGroups(gs []string) string { return strings.Join(gs, "\n") }

func splitGroups(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
