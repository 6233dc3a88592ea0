package sqlstore

import "context"

// MigrateTo applies the migrations up to version v only, as a database
// last migrated by an older release.
func (s *Store) MigrateTo(ctx context.Context, v int) error { return s.migrate(ctx, v) }
