package membership_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/memberkit/memberkit/membership"
)

func FuzzDefaultLogin(f *testing.F) {
	for _, s := range [][2]string{{"Zoé", "Lefèvre-Dubois"}, {"Jean-Pierre", "D'Artagnan"}, {"Łukasz", "Đorđević"}, {"李", "王"}, {"", ""}, {"a\x00b", "--"}, {"O'Brien; DROP TABLE", "x"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, first, last string) {
		got := membership.DefaultLogin(first, last)
		if got != membership.DefaultLogin(first, last) {
			t.Fatal("not deterministic")
		}
		if len(got) > membership.MaxLoginLen {
			t.Fatalf("%q longer than %d", got, membership.MaxLoginLen)
		}
		for _, r := range got {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
				t.Fatalf("%q has %q outside [a-z0-9.-]", got, r)
			}
		}
		if got != "" {
			if _, err := membership.ValidateLogin(got); err != nil {
				t.Fatalf("default login %q is not a valid login: %v", got, err)
			}
		}
	})
}

func FuzzValidateEmail(f *testing.F) {
	for _, s := range []string{"a@b.fr", " Zoe@Example.COM ", "a@b", "@", "a..b@c.fr", "é@ü.de", "x@-y.z", strings.Repeat("a", 300) + "@b.fr"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := membership.ValidateEmail(s)
		if err != nil {
			if got != "" {
				t.Fatal("a refused email returns no value")
			}
			return
		}
		again, err := membership.ValidateEmail(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, got, again, err)
		}
		if !utf8.ValidString(got) || strings.ContainsAny(got, " \t\r\n") || strings.Count(got, "@") != 1 {
			t.Fatalf("accepted a malformed address %q", got)
		}
	})
}

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"Zoé", "  O'Brien  ", "", "\x00", "a\tb", strings.Repeat("é", 101), "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := membership.ValidateName("first_name", s)
		if err != nil {
			return
		}
		if got == "" || got != strings.TrimSpace(got) || !utf8.ValidString(got) || utf8.RuneCountInString(got) > membership.MaxNameLen {
			t.Fatalf("accepted %q as %q", s, got)
		}
		if again, err := membership.ValidateName("first_name", got); err != nil || again != got {
			t.Fatalf("not idempotent: %q", got)
		}
	})
}
