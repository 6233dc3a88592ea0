package membership

import (
	"testing"

	"golang.org/x/net/idna"
)

// The ASCII fast path of ValidateEmail must accept exactly what IDNA would:
// every short domain over an alphabet that reaches the hyphen and Punycode
// rules is checked both ways.
func TestASCIIDomainFastPathAgreesWithIDNA(t *testing.T) {
	const alphabet = "axn-.0"
	var walk func(d string)
	checked := 0
	walk = func(d string) {
		if d != "" && isASCIIDomain(d) {
			checked++
			fast, fastErr := ValidateEmail("u@" + d)
			ascii, idnaErr := idna.Lookup.ToASCII(d)
			switch {
			case idnaErr != nil && fastErr == nil:
				t.Fatalf("u@%s: IDNA refuses the domain (%v), the fast path accepts it as %s", d, idnaErr, fast)
			case idnaErr == nil && fastErr == nil && fast != "u@"+ascii:
				t.Fatalf("u@%s: fast path gives %s, IDNA gives %s", d, fast, ascii)
			}
		}
		if len(d) == 7 {
			return
		}
		for i := 0; i < len(alphabet); i++ {
			walk(d + alphabet[i:i+1])
		}
	}
	walk("")
	if checked < 10000 {
		t.Fatalf("only %d domains took the fast path", checked)
	}
	for _, bad := range []string{"ab--cd.fr", "xn--.fr", "xn--zz-.fr"} {
		if _, err := ValidateEmail("u@" + bad); err == nil {
			t.Errorf("u@%s accepted", bad)
		}
	}
}
