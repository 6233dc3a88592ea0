package membership

import (
	"context"
	"runtime"
)

// LimitedHasher bounds how many passwords are hashed or verified at once:
// argon2id takes its whole memory (19 MiB by default) for each, so a burst
// of a thousand login attempts must wait its turn instead of taking 19 GiB.
// Callers that pass a context wait for a slot under it ([LimitedHasher.HashContext],
// [LimitedHasher.VerifyContext], [LimitedHasher.Slot]); the plain [Hasher]
// methods wait without one. Share one LimitedHasher between services so
// that the bound holds for the whole process.
type LimitedHasher struct {
	h   Hasher
	sem chan struct{}
}

// LimitHasher wraps h so that at most n hashes run at once; n ≤ 0 means
// runtime.GOMAXPROCS(0). A LimitedHasher given again is returned as it is.
func LimitHasher(h Hasher, n int) *LimitedHasher {
	if l, ok := h.(*LimitedHasher); ok {
		return l
	}
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return &LimitedHasher{h: h, sem: make(chan struct{}, n)}
}

// Limit returns how many hashes may run at once.
func (l *LimitedHasher) Limit() int { return cap(l.sem) }

// Slot waits for a free slot, or for ctx to end. The caller hashes (with
// the plain methods of [LimitedHasher.Unlimited]) and then calls release.
func (l *LimitedHasher) Slot(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case l.sem <- struct{}{}:
		return func() { <-l.sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Unlimited returns the wrapped hasher, for work done inside a slot.
func (l *LimitedHasher) Unlimited() Hasher { return l.h }

// HashContext hashes password once a slot is free.
func (l *LimitedHasher) HashContext(ctx context.Context, password string) (PasswordHash, error) {
	release, err := l.Slot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return l.h.Hash(password)
}

// VerifyContext verifies password once a slot is free.
func (l *LimitedHasher) VerifyContext(ctx context.Context, hash PasswordHash, password string) (ok, rehash bool, err error) {
	release, err := l.Slot(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	return l.h.Verify(hash, password)
}

// Hash implements [Hasher], waiting for a slot without a deadline.
func (l *LimitedHasher) Hash(password string) (PasswordHash, error) {
	return l.HashContext(context.Background(), password)
}

// Verify implements [Hasher], waiting for a slot without a deadline.
func (l *LimitedHasher) Verify(hash PasswordHash, password string) (ok, rehash bool, err error) {
	return l.VerifyContext(context.Background(), hash, password)
}
