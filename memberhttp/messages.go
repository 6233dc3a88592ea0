package memberhttp

import "github.com/memberkit/memberkit/membership"

// text is the screens' word for key in lang, from memberkit's one
// catalogue (membership.Message, under "ui.").
func text(lang membership.Lang, key string, args ...any) string {
	return membership.Message(lang, "ui."+key, args...)
}

// hasText tells whether the catalogue has key.
func hasText(key string) bool {
	return membership.Message(membership.French, "ui."+key) != "ui."+key
}
