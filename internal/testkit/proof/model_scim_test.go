package proof

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/memberkit/memberkit/directory"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/scim"
	"github.com/memberkit/memberkit/store"
)

// The identity provider's operations in the randomized model: it pushes
// creations, deactivations (as Entra ID writes them), activations (as Okta
// does), deletions and group changes through the SCIM handler while the
// admins, the manager, the CSV import and the invitations act on the
// same org.

const (
	opSCIMCreate     opKind = "scim-create"
	opSCIMDeactivate opKind = "scim-deactivate"
	opSCIMActivate   opKind = "scim-activate"
	opSCIMDelete     opKind = "scim-delete"
	opSCIMGroup      opKind = "scim-group"
)

var scimKinds = []opKind{opSCIMCreate, opSCIMCreate, opSCIMDeactivate, opSCIMActivate, opSCIMDelete, opSCIMGroup}

// scimEnv is the provider's side of a model environment.
type scimEnv struct {
	h     http.Handler
	token string
}

func newSCIMEnv(t testing.TB, st store.Store, orgID string, members *roster.Service, hook func(context.Context, []membership.Event)) *scimEnv {
	dir, err := directory.New(st, &directory.Options{AfterCommit: hook})
	if err != nil {
		t.Fatal(err)
	}
	issued, err := dir.IssueToken(context.Background(), sys, orgID, "Entra ID")
	if err != nil {
		t.Fatal(err)
	}
	h, err := scim.New(scim.Options{Members: members, Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	return &scimEnv{h: h, token: string(issued.Secret)}
}

// call sends one request; a status over 299 is the operation's error.
func (s *scimEnv) call(ctx context.Context, method, path string, body any) (map[string]any, error) {
	var data []byte
	if body != nil {
		data, _ = json.Marshal(body)
	}
	req := httptest.NewRequestWithContext(ctx, method, "/scim/v2"+path, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/scim+json")
	rec := httptest.NewRecorder()
	http.StripPrefix("/scim/v2", s.h).ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	if rec.Code > 299 {
		// The rule behind the status, so that the model counts it as a
		// refusal by a rule.
		var rule error = membership.ErrInvalid
		detail := fmt.Sprint(out["detail"])
		switch {
		case rec.Code == http.StatusConflict && out["scimType"] == "uniqueness":
			rule = membership.ErrDuplicate
		case rec.Code == http.StatusConflict && strings.Contains(detail, "admin"):
			rule = membership.ErrLastAdmin
		case rec.Code == http.StatusConflict:
			rule = membership.ErrMemberLimit
		case rec.Code == http.StatusNotFound:
			rule = store.ErrNotFound
		case rec.Code == http.StatusForbidden:
			rule = membership.ErrForbidden
		case rec.Code == http.StatusPreconditionFailed:
			rule = membership.ErrConflict
		case rec.Code >= 500:
			rule = fmt.Errorf("server error")
		}
		return out, fmt.Errorf("scim %s %s: %d %s: %w", method, path, rec.Code, detail, rule)
	}
	return out, nil
}

func (s *scimEnv) userID(ctx context.Context, login string) string {
	out, err := s.call(ctx, "GET", "/Users?filter="+url.QueryEscape(fmt.Sprintf("userName eq %q", login)), nil)
	if err != nil {
		return "missing"
	}
	if list, _ := out["Resources"].([]any); len(list) == 1 {
		id, _ := list[0].(map[string]any)["id"].(string)
		return id
	}
	return "missing"
}

func (s *scimEnv) patch(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": list}
}

func (e *modelEnv) runSCIM(ctx context.Context, o *modelOp, first, last, login, email string) error {
	s := e.scim
	switch o.kind {
	case opSCIMCreate:
		_, err := s.call(ctx, "POST", "/Users", map[string]any{"userName": login, "externalId": "ext-" + login,
			"name": map[string]any{"givenName": first, "familyName": last}, "emails": []any{map[string]any{"value": email, "type": "work", "primary": true}}, "active": true})
		return err
	case opSCIMDeactivate:
		_, err := s.call(ctx, "PATCH", "/Users/"+s.userID(ctx, login), s.patch(map[string]any{"op": "Replace", "path": "active", "value": "False"}))
		return err
	case opSCIMActivate:
		_, err := s.call(ctx, "PATCH", "/Users/"+s.userID(ctx, login), s.patch(map[string]any{"op": "replace", "value": map[string]any{"active": true}}))
		return err
	case opSCIMDelete:
		_, err := s.call(ctx, "DELETE", "/Users/"+s.userID(ctx, login), nil)
		return err
	case opSCIMGroup:
		member := []any{map[string]any{"value": s.userID(ctx, login)}}
		out, err := s.call(ctx, "GET", "/Groups?excludedAttributes=members&filter="+url.QueryEscape(`displayName eq "Équipe"`), nil)
		if err != nil {
			return err
		}
		if list, _ := out["Resources"].([]any); len(list) == 1 {
			id, _ := list[0].(map[string]any)["id"].(string)
			_, err = s.call(ctx, "PATCH", "/Groups/"+id, s.patch(map[string]any{"op": "Add", "path": "members", "value": member}))
			return err
		}
		_, err = s.call(ctx, "POST", "/Groups", map[string]any{"displayName": "Équipe", "members": member})
		return err
	}
	return fmt.Errorf("unknown op %s", o.kind)
}
