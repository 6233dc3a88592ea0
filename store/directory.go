package store

import (
	"context"
	"time"

	"github.com/memberkit/memberkit/membership"
)

// Directory is an optional ability of a [Store]: what package directory
// keeps for the identity providers that sync an org's roster (SCIM). Its
// Tx side is [DirectoryTx]; a store has both or neither. memstore and
// sqlstore have them.
//
// Tokens are written inside the org's Update (so that issuing and
// revoking are audited with the change); they are found across orgs by
// the hash of their secret, and their last use is recorded outside any
// Update, so that a provider's requests do not queue on the org's lock to
// say so.
type Directory interface {
	// DirectoryTokenByHash returns the token, of any org, whose secret's
	// SHA-256 is hash, revoked or not, or ErrNotFound.
	DirectoryTokenByHash(ctx context.Context, hash []byte) (membership.DirectoryToken, error)
	// TouchDirectoryToken sets the token's LastUsedAt to at, unless it is
	// already later. ErrNotFound when the org has no such token.
	TouchDirectoryToken(ctx context.Context, orgID, id string, at time.Time) error
}

// DirectoryTx is the [Tx] side of [Directory].
type DirectoryTx interface {
	// DirectoryTokens lists the org's tokens by ID, revoked ones included.
	DirectoryTokens(ctx context.Context) ([]membership.DirectoryToken, error)
	// PutDirectoryToken inserts or replaces one of the org's tokens (by
	// ID). A hash another token has gives a *membership.DuplicateError
	// with Key "token".
	PutDirectoryToken(ctx context.Context, t membership.DirectoryToken) error

	// Groups lists the org's groups by ID.
	Groups(ctx context.Context) ([]membership.Group, error)
	// PutGroup inserts or replaces one of the org's groups (by ID). A
	// name another group of the org has (by membership.GroupKey) gives a
	// *membership.DuplicateError with Key "group".
	PutGroup(ctx context.Context, g membership.Group) error
	// DeleteGroup deletes one of the org's groups, or returns ErrNotFound.
	DeleteGroup(ctx context.Context, id string) error
}

// DirectoryOf returns st's [Directory], or false when st has none.
func DirectoryOf(st Store) (Directory, bool) {
	d, ok := st.(Directory)
	return d, ok
}

// ErrNoDirectory is returned by package directory on a store without the
// [Directory] ability.
var ErrNoDirectory = membership.NewSentinel("no_directory", 501, "memberkit: this store keeps no directory tokens or groups")
