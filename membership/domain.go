package membership

import (
	"strings"
	"time"
)

// DomainPolicy says what a verified email domain of an org does for people
// whose address is at that domain.
type DomainPolicy string

// Domain policies.
const (
	// DomainPolicyNone: the domain is the org's, nothing more (it may
	// still restrict the org's invitations, see
	// [Org.InviteVerifiedDomainsOnly]).
	DomainPolicyNone DomainPolicy = "none"
	// DomainPolicySuggest: the org is listed to a new user at that domain
	// as one they may ask to join; joining still takes an invitation.
	DomainPolicySuggest DomainPolicy = "suggest"
	// DomainPolicyAutoJoin: a user whose address at that domain the host
	// has verified joins at once, with the domain's role, within seats.
	DomainPolicyAutoJoin DomainPolicy = "auto_join"
)

// Valid reports whether p is one of the policies above.
func (p DomainPolicy) Valid() bool {
	return p == DomainPolicyNone || p == DomainPolicySuggest || p == DomainPolicyAutoJoin
}

// Domain is an email domain an org claims. Claims are per org: several
// orgs may claim a domain, but it belongs to at most one once verified.
// Until it is verified, its policy does nothing.
type Domain struct {
	OrgID string
	// Name is the domain in lookup form: lower-case ASCII, IDNA applied
	// (exämple.fr → xn--exmple-cua.fr), as emails are stored.
	Name string
	// Token is what proves the claim: published in DNS (see
	// [Domain.VerificationRecord]) or checked by the host its own way.
	// It is not a secret.
	Token      string
	VerifiedAt time.Time // zero until verified
	Policy     DomainPolicy
	// RoleID is the role given to who joins by this domain (auto-join);
	// empty means [RoleUser].
	RoleID    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Verified reports whether the claim has been proven.
func (d Domain) Verified() bool { return !d.VerifiedAt.IsZero() }

// JoinRole returns the role given on joining by this domain.
func (d Domain) JoinRole() string {
	if d.RoleID == "" {
		return RoleUser
	}
	return d.RoleID
}

// CheckJoinRole refuses a role for joining by domain when it holds a
// permission that manages the org (members, invitations, roles, the org,
// imports) or is admin: anyone with an address at the domain would get
// it. Read permissions and the host's own are allowed.
func CheckJoinRole(r Role) error {
	if r.ID == RoleAdmin {
		return invalid("role", "join_admin")
	}
	for _, p := range []Permission{PermMembersManage, PermInvitationsManage, PermRolesManage, PermOrgManage, PermCSVImport} {
		if r.Has(p) {
			return invalid("role", "join_manager", r.Name, string(p))
		}
	}
	return nil
}

// Domain verification record: a TXT record at
// "_memberkit-challenge.<domain>" whose value is
// "memberkit-verification=<token>".
const (
	DomainChallengePrefix = "_memberkit-challenge."
	DomainTokenPrefix     = "memberkit-verification="
)

// VerificationRecord returns the DNS TXT record that proves the claim:
// its name and its value.
func (d Domain) VerificationRecord() (name, value string) {
	return DomainChallengePrefix + d.Name, DomainTokenPrefix + d.Token
}

// NewDomainToken returns a fresh verification token: 128 random bits in
// base64url (22 characters), as a security stamp.
func NewDomainToken() string { return NewSecurityStamp() }

// ValidateDomainName trims and normalises a domain name as ValidateEmail
// does an address's domain: IDNA lookup form, lower-case ASCII labels, at
// least one dot, no invisible character.
func ValidateDomainName(s string) (string, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if s == "" {
		return "", invalid("domain", "required")
	}
	if len(s) > 253*4 {
		return "", invalid("domain", "max_bytes", 253)
	}
	if i, r := hiddenRune(s); i >= 0 {
		return "", invalid("domain", "invisible_char", r)
	}
	return lookupDomain("domain", s)
}

// EmailDomain returns the domain of a normalised email address (what
// follows its last @), or "".
func EmailDomain(email string) string {
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		return email[i+1:]
	}
	return ""
}
