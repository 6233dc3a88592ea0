package webhook_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/webhook"
)

// A receiver checks each request with the secret it was given, then keeps
// the events, ignoring the IDs it has already seen.
func ExampleReceive() {
	secret := membership.Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	seen := map[string]bool{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := webhook.Receive(r, []membership.Secret{secret}, time.Now())
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		for _, e := range p.Events {
			if !seen[e.ID] {
				seen[e.ID] = true
				fmt.Println(p.OrgID, e.Seq, e.Type)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})

	// What memberkit's webhook subscriber sends:
	body := `{"type":"memberkit.events","version":1,"org_id":"acme","events":[{"id":"e1","seq":1,"org_id":"acme","type":"member.added","at":"2026-11-24T09:00:00Z","actor":"system"}]}`
	for range 2 { // delivered twice (at least once), kept once
		req := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(body))
		sig, _ := webhook.Sign(secret, "msg_acme_1-1", time.Now(), []byte(body))
		req.Header.Set(webhook.HeaderID, "msg_acme_1-1")
		req.Header.Set(webhook.HeaderTimestamp, fmt.Sprint(time.Now().Unix()))
		req.Header.Set(webhook.HeaderSignature, sig)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// acme 1 member.added
	// 204
	// 204
}
