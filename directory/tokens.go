package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Issued is a token just issued, with its secret: the only time the
// secret is known. Hand it to the identity provider's administrator.
type Issued struct {
	Token membership.DirectoryToken
	// Secret is the bearer credential; it prints and marshals as
	// "[redacted]": use string(Secret).
	Secret membership.Secret
}

// IssueToken issues a directory token for the org (permission
// org.manage), named after who will use it ("Okta"). The name is the
// actor of every change made with it.
func (s *Service) IssueToken(ctx context.Context, actor membership.Actor, orgID, name string) (Issued, error) {
	return s.issue(ctx, actor, orgID, name, membership.NewDirectorySecret())
}

// ImportToken registers a secret the host made itself (kept in its
// secret manager, or given on a command line, as examples/scimserver
// does) as a directory token of the org, permission org.manage. Prefer
// [Service.IssueToken]: a secret imported here is only as strong as it
// is long and random, so one shorter than Options.MinImportedSecret
// (default 32 bytes) or longer than 1,024 is refused (ErrInvalid, field
// "token"). A secret another token has gives a *membership.DuplicateError
// (Key "token").
func (s *Service) ImportToken(ctx context.Context, actor membership.Actor, orgID, name, secret string) (membership.DirectoryToken, error) {
	if strings.TrimSpace(secret) == "" {
		return membership.DirectoryToken{}, membership.Invalid("token", "required")
	}
	if len(secret) < s.minImport || len(secret) > 1024 {
		return membership.DirectoryToken{}, membership.Invalid("token", "secret_length", s.minImport, 1024)
	}
	issued, err := s.issue(ctx, actor, orgID, name, secret)
	return issued.Token, err
}

func (s *Service) issue(ctx context.Context, actor membership.Actor, orgID, name, secret string) (Issued, error) {
	name, err := membership.ValidateTokenName(name)
	if err != nil {
		return Issued{}, err
	}
	var out Issued
	err = s.update(ctx, orgID, func(dtx store.DirectoryTx, tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermOrgManage); err != nil {
			return err
		}
		now := svc.Now(s.clock)
		t := membership.DirectoryToken{ID: membership.NewID(), OrgID: orgID, Name: name, Hash: membership.HashDirectorySecret(secret),
			Hint: hint(secret), CreatedBy: actor.String(), CreatedAt: now}
		if err := dtx.PutDirectoryToken(ctx, t); err != nil {
			return err
		}
		e := svc.Event(now, membership.EventTokenIssued, actor, t.ID)
		e.Detail = "name: " + name
		emit(e)
		out = Issued{Token: t, Secret: membership.Secret(secret)}
		return nil
	})
	return out, err
}

// Tokens lists the org's directory tokens, revoked ones included, with
// their last use (permission org.manage). Secrets are not kept, so not
// listed.
func (s *Service) Tokens(ctx context.Context, actor membership.Actor, orgID string) ([]membership.DirectoryToken, error) {
	var out []membership.DirectoryToken
	err := s.view(ctx, orgID, func(dtx store.DirectoryTx, tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermOrgManage); err != nil {
			return err
		}
		var err error
		out, err = dtx.DirectoryTokens(ctx)
		return err
	})
	return out, err
}

// RevokeToken revokes one of the org's directory tokens (permission
// org.manage): from then on it authenticates nothing. Revoking a revoked
// token changes nothing.
func (s *Service) RevokeToken(ctx context.Context, actor membership.Actor, orgID, tokenID string) (membership.DirectoryToken, error) {
	var out membership.DirectoryToken
	err := s.update(ctx, orgID, func(dtx store.DirectoryTx, tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermOrgManage); err != nil {
			return err
		}
		ts, err := dtx.DirectoryTokens(ctx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.ID != tokenID {
				continue
			}
			if t.Revoked() {
				out = t
				return nil
			}
			now := svc.Now(s.clock)
			t.RevokedAt = now
			if err := dtx.PutDirectoryToken(ctx, t); err != nil {
				return err
			}
			e := svc.Event(now, membership.EventTokenRevoked, actor, t.ID)
			e.Detail = "name: " + t.Name
			emit(e)
			out = t
			return nil
		}
		return fmt.Errorf("directory token %q: %w", tokenID, store.ErrNotFound)
	})
	return out, err
}

// Authenticate returns the token whose secret a request presents, or
// [ErrInvalidToken] when there is none or it is revoked. It records the
// token's last use (at most once per Options.TouchEvery); a failure to
// record it is logged, not returned.
func (s *Service) Authenticate(ctx context.Context, secret string) (membership.DirectoryToken, error) {
	if secret == "" {
		return membership.DirectoryToken{}, ErrInvalidToken
	}
	t, err := s.dir.DirectoryTokenByHash(ctx, membership.HashDirectorySecret(secret))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return membership.DirectoryToken{}, ErrInvalidToken
		}
		return membership.DirectoryToken{}, err
	}
	if t.Revoked() {
		return membership.DirectoryToken{}, ErrInvalidToken
	}
	now := svc.Now(s.clock)
	if now.Sub(t.LastUsedAt) >= s.touchEvery {
		if err := s.dir.TouchDirectoryToken(ctx, t.OrgID, t.ID, now); err != nil {
			s.log.WarnContext(ctx, "memberkit: directory token's last use not recorded", "org", t.OrgID, "token", t.ID, "err", err)
		} else {
			t.LastUsedAt = now
		}
	}
	return t, nil
}

// hint is what a list shows of a secret: its first 8 characters, and
// nothing of a secret shorter than 32 bytes (a hint would be a large part
// of it).
func hint(secret string) string {
	if len(secret) < 32 {
		return ""
	}
	r := []rune(secret)
	return string(r[:min(8, len(r))])
}
