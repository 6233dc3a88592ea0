package memberhttp

import (
	"strings"

	"github.com/memberkit/memberkit/membership"
)

// text is the screens' word for key in lang, from memberkit's one
// catalogue (membership.Message, under "ui.").
func text(lang membership.Lang, key string, args ...any) string {
	return membership.Message(lang, "ui."+key, args...)
}

// hasText tells whether the catalogue has key.
func hasText(key string) bool {
	return membership.Message(membership.French, "ui."+key) != "ui."+key
}

// textWith returns a function that formats key's one %s argument in
// lang: the catalogue looked up once for the many rows of a page, and a
// concatenation in place of fmt for each.
func textWith(lang membership.Lang, key string) func(string) string {
	f := membership.Message(lang, "ui."+key, "\x00")
	before, after, ok := strings.Cut(f, "\x00")
	if !ok {
		return func(s string) string { return text(lang, key, s) }
	}
	return func(s string) string { return before + s + after }
}
