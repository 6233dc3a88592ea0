package proof

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// Every error the library can return reads as a Problem: a code that is
// not "internal", a status, and a message in each language, different
// from the other, with no prefix and no internal ID. The errors are
// wrapped as the services wrap them.
func TestEveryErrorExplains(t *testing.T) {
	id := "0193d1f2-aaaa-7bbb-8ccc-123456789abc" // an internal ID, never shown
	wrap := func(err error) error { return fmt.Errorf("roster: member %s: %w", id, err) }
	cases := map[string]error{
		"not_found": wrap(membership.ErrNotFound), "duplicate": &membership.DuplicateError{Key: "login", Value: "jean.dupont"},
		"conflict": wrap(membership.ErrConflict), "invalid_field": membership.Invalid("first_name", "required"),
		"forbidden":                &membership.ForbiddenError{ActorID: "member:" + id, Permission: membership.PermMembersManage},
		"password_change_required": &membership.ForbiddenError{ActorID: "member:" + id, Err: membership.ErrPasswordChangeRequired},
		"last_admin":               wrap(membership.ErrLastAdmin), "member_limit": &membership.LimitError{Limit: 3, Used: 3, Need: 1},
		"feature_disabled": membership.ErrFeatureDisabled, "role_in_use": wrap(membership.ErrRoleInUse),
		"builtin_role": membership.ErrBuiltinRole, "invalid_credentials": membership.ErrInvalidCredentials,
		"already_member": wrap(membership.ErrAlreadyMember), "invitation_pending": wrap(membership.ErrInvitationPending),
		"invitation_invalid": membership.ErrInvitationInvalid, "invitation_expired": membership.ErrInvitationExpired,
		"not_pending": wrap(membership.ErrNotPending), "too_many_attempts": &membership.ThrottleError{RetryAfter: 90 * time.Second},
		"session_invalid": membership.ErrSessionInvalid, "domain_restricted": wrap(membership.ErrDomainRestricted),
		"domain_not_proven": wrap(membership.ErrDomainNotProven), "stale_plan": fmt.Errorf("%w (roster version 3→4)", csvsync.ErrStalePlan),
		"mass_deactivation": &csvsync.MassDeactivationError{Deactivations: 6, Active: 8, Ratio: 0.5},
		"no_sender":         invite.ErrNoSender, "send_failed": &invite.SendError{Err: errors.New("smtp: 550")},
		"no_notifier": roster.ErrNoNotifier, "not_delivered": roster.ErrNotDelivered,
		"not_migrated": fmt.Errorf("%w (no such table: memberkit_orgs)", sqlstore.ErrNotMigrated),
		"bulk_refused": &roster.BulkError{Refused: []roster.Refusal{{MemberID: id, Err: wrap(membership.ErrLastAdmin)}}},
		"canceled":     fmt.Errorf("sqlstore: begin: %w", context.Canceled), "timeout": context.DeadlineExceeded,
		"internal": errors.New("pq: connection reset by peer 10.0.0.7"),
	}
	for want, err := range cases {
		fr, en := membership.Explain(err, membership.French), membership.Explain(err, membership.English)
		assert.Equal(t, want, fr.Code, "%v", err)
		assert.Equal(t, fr.Code, en.Code)
		assert.GreaterOrEqual(t, fr.Status, 400, want)
		assert.NotEqual(t, fr.Message, en.Message, "%s: one message per language", want)
		for _, m := range []string{fr.Message, en.Message} {
			assert.NotEmpty(t, m, want)
			assert.False(t, strings.HasPrefix(m, "memberkit") || strings.HasPrefix(m, "csvsync") || strings.HasPrefix(m, "sqlstore"), "%s: %q has a prefix", want, m)
			assert.NotContains(t, m, id, "%s: no internal ID", want)
			assert.NotContains(t, m, "10.0.0.7", want)
		}
	}
	bulk := membership.Explain(cases["bulk_refused"], membership.French)
	assert.Equal(t, id, bulk.Details[0].MemberID, "the detail points at the member's row")
	assert.Equal(t, "last_admin", bulk.Details[0].Code)
	assert.Contains(t, membership.Explain(cases["member_limit"], membership.French).Message, "3 places sur 3")
	assert.Contains(t, membership.Explain(cases["too_many_attempts"], membership.English).Message, "try again in 2 min")
	assert.Equal(t, "Prénom : obligatoire", membership.Explain(cases["invalid_field"], membership.French).Message)
	assert.Equal(t, "First name: required", membership.Explain(cases["invalid_field"], membership.English).Message)
	assert.Equal(t, "votre rôle ne permet pas : Gérer les membres", membership.Explain(cases["forbidden"], membership.French).Message)
	assert.Equal(t, membership.Problem{}, membership.Explain(nil, membership.French))
}

// A file's problems read in the file's language, with their lines.
func TestFileErrorExplains(t *testing.T) {
	_, err := csvsync.Parse(strings.NewReader("Nom;Prénom;Etat\nDupont;;actif\nMartin;Bob;peut-être\n"), &csvsync.ParseOptions{Lang: membership.English})
	p := membership.Explain(err, membership.English)
	assert.Equal(t, "file_invalid", p.Code)
	assert.Equal(t, 422, p.Status)
	if assert.Len(t, p.Details, 2) {
		assert.Equal(t, 2, p.Details[0].Line)
		assert.Equal(t, "Prénom", p.Details[0].Column)
		assert.Equal(t, "required value missing", p.Details[0].Message)
		assert.Equal(t, `unknown status "peut-être" (expected Active or Deactivated)`, p.Details[1].Message)
	}
}
