package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/relay"
)

// Version is the payload's schema version. Fields may be added within a
// version; a field removed or changed in meaning makes a new version.
const Version = 1

// PayloadType is the Type of every payload of this package.
const PayloadType = "memberkit.events"

// Payload is the JSON body of a webhook request: one org's consecutive
// events, by ascending Seq.
type Payload struct {
	Type    string  `json:"type"`    // always PayloadType
	Version int     `json:"version"` // Version
	OrgID   string  `json:"org_id"`
	Events  []Event `json:"events"`
}

// Event is one audit event in a [Payload]. ID is stable and unique:
// receivers deduplicate by it (a batch can come twice).
type Event struct {
	ID           string            `json:"id"`
	Seq          int64             `json:"seq"` // 1, 2, 3… per org, in commit order
	OrgID        string            `json:"org_id"`
	Type         string            `json:"type"` // membership.EventType, e.g. "member.deactivated"
	At           time.Time         `json:"at"`   // RFC 3339, UTC
	Actor        string            `json:"actor"`
	SubjectID    string            `json:"subject_id,omitempty"`
	RoleBefore   string            `json:"role_before,omitempty"`
	RoleAfter    string            `json:"role_after,omitempty"`
	StatusBefore string            `json:"status_before,omitempty"`
	StatusAfter  string            `json:"status_after,omitempty"`
	Detail       string            `json:"detail,omitempty"`
	Attributes   map[string]string `json:"attributes,omitempty"`
}

// NewPayload returns the payload of a batch.
func NewPayload(b relay.Batch) Payload {
	p := Payload{Type: PayloadType, Version: Version, OrgID: b.OrgID, Events: make([]Event, len(b.Events))}
	for i, e := range b.Events {
		p.Events[i] = Event{ID: e.ID, Seq: e.Seq, OrgID: e.OrgID, Type: string(e.Type), At: e.At.UTC(), Actor: e.Actor, SubjectID: e.SubjectID,
			RoleBefore: e.RoleBefore, RoleAfter: e.RoleAfter, StatusBefore: string(e.StatusBefore), StatusAfter: string(e.StatusAfter),
			Detail: e.Detail, Attributes: e.Attributes}
	}
	return p
}

// MessageID is the webhook-id of a batch: the org and the Seq range. A
// batch sent again carries the same ID when it holds the same events,
// but a retry may hold more: receivers deduplicate by Event.ID.
func MessageID(b relay.Batch) string {
	if len(b.Events) == 0 {
		return "msg_" + b.OrgID
	}
	return fmt.Sprintf("msg_%s_%d-%d", b.OrgID, b.Events[0].Seq, b.Events[len(b.Events)-1].Seq)
}

// Endpoint is where a webhook subscriber POSTs.
type Endpoint struct {
	// URL receives the POSTs.
	URL string
	// Secrets sign each request, each giving one signature of the
	// webhook-signature header: give the new secret and the old one
	// while the receiver moves from one to the other.
	Secrets []membership.Secret
	// Client sends the requests; default one that follows no redirect.
	// The relay's Options.Timeout bounds each request.
	Client *http.Client
	// Clock stamps webhook-timestamp; default the system clock.
	Clock membership.Clock
}

// StatusError is a response other than 2xx: the batch is not delivered.
type StatusError struct {
	Status int
	Body   string // the response's first 200 bytes
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("webhook: receiver answered %d %s: %q", e.Status, http.StatusText(e.Status), e.Body)
}

// Subscriber returns a relay subscriber, named name, that POSTs each batch
// to the endpoint as a signed JSON [Payload]. A 2xx answer delivers the
// batch; anything else, or no answer within the relay's timeout, is a
// failure and the batch comes again after a backoff.
func Subscriber(name string, e Endpoint) (relay.Subscriber, error) {
	if e.URL == "" {
		return relay.Subscriber{}, errors.New("webhook: no URL")
	}
	if len(e.Secrets) == 0 {
		return relay.Subscriber{}, errors.New("webhook: no secret to sign with")
	}
	keys := make([]key, len(e.Secrets))
	for i, s := range e.Secrets {
		k, err := parseSecret(s)
		if err != nil {
			return relay.Subscriber{}, err
		}
		keys[i] = k
	}
	client := e.Client
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	clock := membership.ClockOrSystem(e.Clock)
	return relay.Subscriber{Name: name, Deliver: func(ctx context.Context, b relay.Batch) error {
		body, err := json.Marshal(NewPayload(b))
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
		if err != nil {
			return err
		}
		id, ts := MessageID(b), clock.Now().Unix()
		sigs := make([]byte, 0, 50*len(keys))
		for i, k := range keys {
			if i > 0 {
				sigs = append(sigs, ' ')
			}
			sigs = append(sigs, k.sign(id, ts, body)...)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderID, id)
		req.Header.Set(HeaderTimestamp, fmt.Sprint(ts))
		req.Header.Set(HeaderSignature, string(sigs))
		resp, err := client.Do(req)
		if err != nil {
			return redact(err)
		}
		defer resp.Body.Close()
		head, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) // let the connection be reused
		if resp.StatusCode/100 != 2 {
			return &StatusError{Status: resp.StatusCode, Body: string(head)}
		}
		return nil
	}}, nil
}

// redact takes the query and the user information out of the URL a
// transport error names: they often hold a token, and the error is kept
// in the subscriber's state and logged.
func redact(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	if u, perr := url.Parse(ue.URL); perr == nil {
		u.RawQuery, u.User, u.Fragment = "", nil, ""
		return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
	}
	return &url.Error{Op: ue.Op, URL: "(the endpoint)", Err: ue.Err}
}

// MaxBody is the most bytes [Receive] reads of a request.
const MaxBody = 8 << 20

// Receive reads a webhook request as a receiver does: it reads the body
// (at most MaxBody), checks its signature against secrets at now (see
// [Verify]) and decodes the payload. A receiver answers 2xx once it has
// kept the events, and deduplicates them by ID.
func Receive(r *http.Request, secrets []membership.Secret, now time.Time) (Payload, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return Payload{}, err
	}
	if len(body) > MaxBody {
		return Payload{}, fmt.Errorf("webhook: body over %d bytes", MaxBody)
	}
	if err := Verify(secrets, r.Header, body, now, 0); err != nil {
		return Payload{}, err
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		return Payload{}, fmt.Errorf("webhook: payload: %w", err)
	}
	if p.Type != PayloadType || p.Version != Version {
		return p, fmt.Errorf("webhook: payload %q version %d, expected %q version %d", p.Type, p.Version, PayloadType, Version)
	}
	return p, nil
}
