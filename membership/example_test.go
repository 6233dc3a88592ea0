package membership_test

import (
	"encoding/json"
	"fmt"

	"github.com/memberkit/memberkit/membership"
)

// Any error a service returns reads as a Problem: a stable code, an HTTP
// status and a message in French or English, with the field or the CSV
// line where there is one. This is what a JSON API sends.
func ExampleExplain() {
	for _, err := range []error{
		membership.Invalid("first_name", "required"),
		&membership.LimitError{Limit: 3, Used: 3, Need: 1},
		fmt.Errorf("roster: member 0193…: %w", membership.ErrLastAdmin),
	} {
		fr := membership.Explain(err, membership.French)
		en := membership.Explain(err, membership.English)
		b, _ := json.Marshal(fr)
		fmt.Println(string(b))
		fmt.Println(en.Message)
	}
	// Output:
	// {"code":"invalid_field","status":422,"message":"Prénom : obligatoire","field":"first_name"}
	// First name: required
	// {"code":"member_limit","status":409,"message":"le forfait de l'entreprise est complet : 3 places sur 3 utilisées, 1 de plus demandées"}
	// the company's plan has no seat left: 3 of 3 seats used, 1 more asked
	// {"code":"last_admin","status":409,"message":"l'entreprise doit garder au moins un administrateur actif"}
	// the company must keep at least one active admin
}
