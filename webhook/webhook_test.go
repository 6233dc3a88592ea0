package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/relay"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
	"github.com/memberkit/memberkit/webhook"
)

// The specification's published test vector (the reference libraries'
// TestWebhookSign): our signature is theirs, byte for byte.
const (
	specSecret    = membership.Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	specMsgID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specPayload   = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignMatchesTheSpecificationVector(t *testing.T) {
	sig, err := webhook.Sign(specSecret, specMsgID, time.Unix(specTimestamp, 0), []byte(specPayload))
	require.NoError(t, err)
	assert.Equal(t, specSignature, sig)
	// The prefix is optional, as in the reference libraries.
	sig, err = webhook.Sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", specMsgID, time.Unix(specTimestamp, 0), []byte(specPayload))
	require.NoError(t, err)
	assert.Equal(t, specSignature, sig)
}

func specHeader() http.Header {
	h := http.Header{}
	h.Set(webhook.HeaderID, specMsgID)
	h.Set(webhook.HeaderTimestamp, fmt.Sprint(specTimestamp))
	h.Set(webhook.HeaderSignature, specSignature)
	return h
}

// A receiver accepts the vector at its time, and refuses each way of
// tampering with it, as the specification's test cases do.
func TestVerify(t *testing.T) {
	at := time.Unix(specTimestamp, 0).Add(30 * time.Second)
	secrets := []membership.Secret{specSecret}
	body := []byte(specPayload)
	require.NoError(t, webhook.Verify(secrets, specHeader(), body, at, 0))

	for name, c := range map[string]struct {
		edit func(h http.Header)
		body string
		now  time.Time
		want error
	}{
		"missing id":          {edit: func(h http.Header) { h.Del(webhook.HeaderID) }, want: webhook.ErrMissingHeaders},
		"missing timestamp":   {edit: func(h http.Header) { h.Del(webhook.HeaderTimestamp) }, want: webhook.ErrMissingHeaders},
		"missing signature":   {edit: func(h http.Header) { h.Del(webhook.HeaderSignature) }, want: webhook.ErrMissingHeaders},
		"other signature":     {edit: func(h http.Header) { h.Set(webhook.HeaderSignature, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=") }, want: webhook.ErrSignature},
		"other id":            {edit: func(h http.Header) { h.Set(webhook.HeaderID, "msg_other") }, want: webhook.ErrSignature},
		"other body":          {body: `{"test": 2432232315}`, want: webhook.ErrSignature},
		"v2 of the same mac":  {edit: func(h http.Header) { h.Set(webhook.HeaderSignature, strings.Replace(specSignature, "v1,", "v2,", 1)) }, want: webhook.ErrSignature},
		"too old":             {now: time.Unix(specTimestamp, 0).Add(webhook.DefaultTolerance), want: webhook.ErrTimestamp},
		"from the future":     {now: time.Unix(specTimestamp, 0).Add(-webhook.DefaultTolerance - time.Second), want: webhook.ErrTimestamp},
		"timestamp not a int": {edit: func(h http.Header) { h.Set(webhook.HeaderTimestamp, "1614265330.5") }, want: webhook.ErrTimestamp},
	} {
		t.Run(name, func(t *testing.T) {
			h := specHeader()
			if c.edit != nil {
				c.edit(h)
			}
			b, now := body, at
			if c.body != "" {
				b = []byte(c.body)
			}
			if !c.now.IsZero() {
				now = c.now
			}
			assert.ErrorIs(t, webhook.Verify(secrets, h, b, now, 0), c.want)
		})
	}

	// Several signatures, one valid, as the specification's multi-signature case.
	h := specHeader()
	h.Set(webhook.HeaderSignature, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "+specSignature)
	assert.NoError(t, webhook.Verify(secrets, h, body, at, 0))
	// A receiver that knows the old and the new secret accepts either.
	assert.NoError(t, webhook.Verify([]membership.Secret{webhook.NewSecret(), specSecret}, specHeader(), body, at, 0))
	assert.ErrorIs(t, webhook.Verify([]membership.Secret{"whsec_short"}, specHeader(), body, at, 0), webhook.ErrSecret)
}

// A fresh secret parses, differs each time and never prints.
func TestNewSecret(t *testing.T) {
	a, b := webhook.NewSecret(), webhook.NewSecret()
	assert.NoError(t, webhook.ParseSecret(a))
	assert.NotEqual(t, a, b)
	assert.True(t, strings.HasPrefix(string(a), "whsec_"))
	assert.Equal(t, "[redacted]", fmt.Sprint(a))
}

// receiver is a test endpoint: it verifies every request and keeps the
// payloads; fail makes it answer 503.
type receiver struct {
	mu       sync.Mutex
	secrets  []membership.Secret
	payloads []webhook.Payload
	headers  []http.Header
	fail     bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.fail {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	p, err := webhook.Receive(r, rc.secrets, time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rc.payloads = append(rc.payloads, p)
	rc.headers = append(rc.headers, r.Header.Clone())
	w.WriteHeader(http.StatusNoContent)
}

// Through a relay, each batch is POSTed signed with every secret given,
// in the documented schema; a non-2xx answer keeps the batch for later.
func TestDeliveryThroughARelay(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	require.NoError(t, st.CreateOrg(ctx, membership.Org{ID: "acme", Name: "Acme"}))
	require.NoError(t, st.Update(ctx, "acme", func(tx store.Tx) error {
		return tx.AppendEvents(ctx, []membership.Event{
			{ID: "e1", At: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), Type: membership.EventMemberDeactivated, Actor: "member:m1", SubjectID: "m2",
				StatusBefore: membership.StatusActive, StatusAfter: membership.StatusDeactivated, Attributes: membership.Attributes{"team": "paris"}},
			{ID: "e2", At: time.Date(2026, 11, 24, 9, 0, 1, 0, time.UTC), Type: membership.EventMemberAdded, Actor: "system"},
		})
	}))
	oldSecret, newSecret := webhook.NewSecret(), webhook.NewSecret()
	rc := &receiver{secrets: []membership.Secret{oldSecret}, fail: true}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	sub, err := webhook.Subscriber("hooks", webhook.Endpoint{URL: srv.URL, Secrets: []membership.Secret{newSecret, oldSecret}})
	require.NoError(t, err)
	clock := membership.NewFakeClock(time.Now())
	r, err := relay.New(st, &relay.Options{Clock: clock})
	require.NoError(t, err)

	_, err = r.Pass(ctx, sub)
	var se *webhook.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusServiceUnavailable, se.Status)
	assert.Contains(t, se.Error(), "maintenance")

	rc.mu.Lock()
	rc.fail = false
	rc.mu.Unlock()
	clock.Set(clock.Now().Add(time.Minute))
	n, err := r.Pass(ctx, sub)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	require.Len(t, rc.payloads, 1)
	p := rc.payloads[0]
	assert.Equal(t, "memberkit.events", p.Type)
	assert.Equal(t, 1, p.Version)
	assert.Equal(t, "acme", p.OrgID)
	require.Len(t, p.Events, 2)
	assert.Equal(t, webhook.Event{ID: "e1", Seq: 1, OrgID: "acme", Type: "member.deactivated", At: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
		Actor: "member:m1", SubjectID: "m2", StatusBefore: "active", StatusAfter: "deactivated", Attributes: map[string]string{"team": "paris"}}, p.Events[0])
	assert.Equal(t, "msg_acme_1-2", rc.headers[0].Get(webhook.HeaderID))
	assert.Len(t, strings.Fields(rc.headers[0].Get(webhook.HeaderSignature)), 2, "one signature per secret")
	assert.Equal(t, "application/json", rc.headers[0].Get("Content-Type"))

	// A receiver that knows only the new secret accepts the next batch too.
	rc.mu.Lock()
	rc.secrets = []membership.Secret{newSecret}
	rc.mu.Unlock()
	require.NoError(t, r.Replay(ctx, "hooks", "acme", 1))
	_, err = r.Pass(ctx, sub)
	require.NoError(t, err)
	require.Len(t, rc.payloads, 2)
	assert.Equal(t, "msg_acme_2-2", rc.headers[1].Get(webhook.HeaderID))
}

// A receiver that never answers fails the delivery at the relay's
// timeout; a redirect is not followed.
func TestTimeoutsAndRedirects(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	require.NoError(t, st.CreateOrg(ctx, membership.Org{ID: "acme", Name: "Acme"}))
	require.NoError(t, st.Update(ctx, "acme", func(tx store.Tx) error {
		return tx.AppendEvents(ctx, []membership.Event{{ID: "e1", Type: membership.EventMemberAdded}})
	}))
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	r, err := relay.New(st, &relay.Options{Timeout: 50 * time.Millisecond, Lease: time.Second})
	require.NoError(t, err)
	sub, err := webhook.Subscriber("slow", webhook.Endpoint{URL: slow.URL, Secrets: []membership.Secret{webhook.NewSecret()}})
	require.NoError(t, err)
	_, err = r.Pass(ctx, sub)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	moved := httptest.NewServer(http.RedirectHandler("http://127.0.0.1:1/elsewhere", http.StatusFound))
	defer moved.Close()
	sub, err = webhook.Subscriber("moved", webhook.Endpoint{URL: moved.URL, Secrets: []membership.Secret{webhook.NewSecret()}})
	require.NoError(t, err)
	_, err = r.Pass(ctx, sub)
	var se *webhook.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusFound, se.Status)

	// A transport error keeps the endpoint's query (often a token) out of
	// what is logged and stored.
	sub, err = webhook.Subscriber("down", webhook.Endpoint{URL: "http://127.0.0.1:1/hook?token=SECRET-IN-URL", Secrets: []membership.Secret{webhook.NewSecret()}})
	require.NoError(t, err)
	_, err = r.Pass(ctx, sub)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET-IN-URL")
	assert.Contains(t, err.Error(), "127.0.0.1:1/hook")
	state, err := r.State(ctx, "down")
	require.NoError(t, err)
	assert.NotContains(t, state.LastError, "SECRET-IN-URL")

	_, err = webhook.Subscriber("x", webhook.Endpoint{URL: slow.URL})
	assert.Error(t, err)
	_, err = webhook.Subscriber("x", webhook.Endpoint{Secrets: []membership.Secret{webhook.NewSecret()}})
	assert.Error(t, err)
}

// Receive refuses a body over MaxBody and a payload of another schema.
func TestReceiveRefuses(t *testing.T) {
	secret := webhook.NewSecret()
	req := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		sig, err := webhook.Sign(secret, "msg_1", time.Now(), []byte(body))
		require.NoError(t, err)
		r.Header.Set(webhook.HeaderID, "msg_1")
		r.Header.Set(webhook.HeaderTimestamp, fmt.Sprint(time.Now().Unix()))
		r.Header.Set(webhook.HeaderSignature, sig)
		return r
	}
	_, err := webhook.Receive(req(`{"type":"other","version":1}`), []membership.Secret{secret}, time.Now())
	assert.ErrorContains(t, err, "version")
	_, err = webhook.Receive(req(strings.Repeat(" ", webhook.MaxBody+1)), []membership.Secret{secret}, time.Now())
	assert.ErrorContains(t, err, "body over")
	_, err = webhook.Receive(req(`{"type":"memberkit.events","version":1,"org_id":"acme","events":[]}`), []membership.Secret{webhook.NewSecret()}, time.Now())
	assert.True(t, errors.Is(err, webhook.ErrSignature))
	r := req("x")
	r.Body = io.NopCloser(strings.NewReader("y"))
	_, err = webhook.Receive(r, []membership.Secret{secret}, time.Now())
	assert.ErrorIs(t, err, webhook.ErrSignature)
}
