package membership

import "github.com/google/uuid"

// NewID returns a new time-ordered identifier (UUIDv7). Time-ordered keys
// keep B-tree inserts local in SQL stores.
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil { // only when crypto/rand fails
		return uuid.NewString()
	}
	return id.String()
}
