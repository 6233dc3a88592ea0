package memberhttp

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/membership"
)

// maxCached bounds the idempotency keys and the orgs' group labels a
// handler keeps; past it the oldest go first.
const maxCached = 4096

// maxPlans bounds the import previews a handler keeps, each one user's
// latest: a preview of a large file holds tens of MiB until it is applied
// or expires.
const maxPlans = 32

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// owner is who a preview or an idempotency key belongs to: nobody else
// may apply or replay it.
func owner(id Identity) string { return id.OrgID + "\x00" + id.Actor.String() }

// planCache keeps import previews between the upload and the apply.
type planCache struct {
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	plans map[string]cachedPlan
	order []string // tokens, oldest first
}

type cachedPlan struct {
	owner   string
	plan    *csvsync.Plan
	expires time.Time
}

func newPlanCache(ttl time.Duration, now func() time.Time) *planCache {
	return &planCache{ttl: ttl, now: now, plans: map[string]cachedPlan{}}
}

// put keeps p for id, in place of id's previous preview, and returns its
// token and expiry.
func (c *planCache) put(id Identity, p *csvsync.Plan) (string, time.Time) {
	tok := randomToken()
	exp := c.now().Add(c.ttl)
	who := owner(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	for t, old := range c.plans {
		if old.owner == who {
			delete(c.plans, t)
		}
	}
	c.plans[tok] = cachedPlan{owner: who, plan: p, expires: exp}
	c.order = append(c.order, tok)
	c.trim()
	return tok, exp
}

// trim drops the tokens of previews gone, expired, or the oldest past
// maxPlans.
func (c *planCache) trim() {
	now := c.now()
	live := pruneExpired(c.order, c.plans, func(p cachedPlan) bool { return now.Before(p.expires) })
	for len(live) > maxPlans {
		delete(c.plans, live[0])
		live = live[1:]
	}
	c.order = append(c.order[:0:0], live...)
}

// take returns id's preview for tok, still valid, and forgets it, in one
// step: a preview applies once, even when two applies race.
func (c *planCache) take(id Identity, tok string) (*csvsync.Plan, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.plans[tok]
	if !ok || p.owner != owner(id) || !c.now().Before(p.expires) {
		return nil, false
	}
	delete(c.plans, tok)
	return p.plan, true
}

// pruneExpired keeps, in order's own array, the keys of m still alive,
// and deletes the others from m.
func pruneExpired[V any](order []string, m map[string]V, alive func(V) bool) []string {
	live := order[:0]
	for _, k := range order {
		if v, ok := m[k]; ok && alive(v) {
			live = append(live, k)
		} else {
			delete(m, k)
		}
	}
	return live
}

// idempotency replays the answer of a POST retried with the same
// Idempotency-Key, so that a client whose connection dropped does not
// invite or add twice (the IETF httpapi Idempotency-Key draft).
type idempotency struct {
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	keys  map[string]*idemEntry
	order []string
}

type idemEntry struct {
	fingerprint [32]byte
	done        bool
	expires     time.Time
	status      int
	header      http.Header
	body        []byte
}

func newIdempotency(ttl time.Duration, now func() time.Time) *idempotency {
	return &idempotency{ttl: ttl, now: now, keys: map[string]*idemEntry{}}
}

// maxIdempotencyKey bounds the header's length.
const maxIdempotencyKey = 255

// idempotent wraps a creating endpoint: the first request with a key
// runs and its answer is kept; a retry with the same key and body gets
// that answer again; the same key with another body, or while the first
// still runs, is refused. Answers of 500 and above are not kept, so that
// a retry may succeed.
func (h *Handler) idempotent(fn apiHandler) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, id Identity) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			fn(w, r, id)
			return
		}
		if len(key) > maxIdempotencyKey {
			h.fail(w, r, id.Lang, &badRequest{field: "Idempotency-Key", msg: text(id.Lang, "err.idem_key_long", maxIdempotencyKey)})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBytes))
		if err != nil {
			h.fail(w, r, id.Lang, &tooLarge{msg: text(id.Lang, "err.body_too_large")})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.New()
		sum.Write([]byte(r.Method + " " + r.URL.RequestURI() + "\x00"))
		sum.Write(body)
		var fp [32]byte
		copy(fp[:], sum.Sum(nil))
		full := owner(id) + "\x00" + key
		e, replay, p := h.idem.begin(full, fp, id.Lang)
		if p != nil {
			writeProblem(w, r, *p)
			return
		}
		if replay {
			for k, v := range e.header {
				w.Header()[k] = v
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(e.status)
			_, _ = w.Write(e.body)
			return
		}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			// A panic, or a client gone (the answer says "canceled"),
			// must not keep the key: the retry it calls for runs.
			keep := recover() == nil && r.Context().Err() == nil && rec.status < 500 && rec.status != 499
			h.idem.finish(full, rec, keep)
		}()
		fn(rec, r, id)
	}
}

// begin reserves key, or finds its kept answer, or refuses it.
func (c *idempotency) begin(key string, fp [32]byte, lang membership.Lang) (*idemEntry, bool, *membership.Problem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if e, ok := c.keys[key]; ok && now.Before(e.expires) {
		switch {
		case e.fingerprint != fp:
			return nil, false, &membership.Problem{Code: "idempotency_key_reused", Status: http.StatusUnprocessableEntity, Message: text(lang, "err.idem_reused")}
		case !e.done:
			return nil, false, &membership.Problem{Code: "idempotency_in_progress", Status: http.StatusConflict, Message: text(lang, "err.idem_running")}
		}
		return e, true, nil
	}
	c.keys[key] = &idemEntry{fingerprint: fp, expires: now.Add(c.ttl)}
	c.order = append(c.order, key)
	live := pruneExpired(c.order, c.keys, func(e *idemEntry) bool { return now.Before(e.expires) })
	for i := 0; len(live) > maxCached && i < len(live); {
		if e := c.keys[live[i]]; e.done { // a key still running stays
			delete(c.keys, live[i])
			live = append(live[:i], live[i+1:]...)
			continue
		}
		i++
	}
	c.order = append(c.order[:0:0], live...)
	return nil, false, nil
}

// finish keeps rec's answer for key, or forgets the key when the answer
// is not to be replayed (a server error, a panic, a client gone).
func (c *idempotency) finish(key string, rec *recorder, keep bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.keys[key]
	if !ok {
		return
	}
	if !keep {
		delete(c.keys, key)
		return
	}
	e.done, e.status, e.body = true, rec.status, rec.body.Bytes()
	e.header = http.Header{}
	for _, k := range []string{"Content-Type", "Location"} {
		if v := rec.Header().Values(k); len(v) > 0 {
			e.header[k] = v
		}
	}
}

// recorder passes an answer through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
