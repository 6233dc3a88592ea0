package membership

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Field length limits.
const (
	MaxNameLen  = 100 // runes, first and last names, role and org names
	MaxLoginLen = 64  // bytes (logins are ASCII)
	MaxEmailLen = 254 // bytes
	MaxGroupLen = 256 // runes per group label (a directory's group names: Entra ID allows 256)
	MaxGroups   = 128 // labels per member (a person in many of a directory's groups)
	// MaxGroupsBytes bounds a member's labels together (UTF-8 bytes,
	// one separator each), so that every store keeps them in one column.
	MaxGroupsBytes = 32 << 10
)

// ValidateName trims a person, role or org name and checks it: not empty,
// at most [MaxNameLen] characters, valid UTF-8, no control characters.
// Punctuation is allowed (O'Brien, Lefèvre-Dubois). field names the field in
// the error.
func ValidateName(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid(field, "required")
	}
	if !utf8.ValidString(s) {
		return "", invalid(field, "not_utf8")
	}
	if n := utf8.RuneCountInString(s); n > MaxNameLen {
		return "", invalid(field, "too_many_chars", n, MaxNameLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", invalid(field, "control_char")
		}
	}
	if i, r := hiddenRune(s); i >= 0 {
		return "", invalid(field, "invisible_char", r)
	}
	return norm.NFC.String(s), nil
}

// hiddenRune finds the first character of s that shows as nothing or
// reorders the text around it, so that a name could pass for another:
// bidirectional controls, zero-width and other format characters (Cf),
// default-ignorable code points and fillers, variation selectors, line
// and paragraph separators, tag characters. The zero-width joiners that Arabic, Persian
// and Indic scripts need are allowed after a letter of such a script. It
// returns -1 when there is none.
func hiddenRune(s string) (int, rune) {
	prev := rune(-1)
	for i, r := range s {
		if r < utf8.RuneSelf { // no ASCII character is hidden (controls are checked apart)
			prev = r
			continue
		}
		switch {
		case r == 0x200C || r == 0x200D: // ZWNJ, ZWJ
			if prev < 0 || !unicode.IsLetter(prev) || unicode.In(prev, unicode.Latin, unicode.Greek, unicode.Cyrillic, unicode.Common) {
				return i, r
			}
		case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Variation_Selector, r),
			unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r), // U+034F, Hangul fillers, U+17B4…
			unicode.In(r, unicode.Zl, unicode.Zp),                     // line and paragraph separators
			r == 0x16FE4, r == 0x2800:                                 // Khitan filler, braille blank
			return i, r
		}
		prev = r
	}
	return -1, 0
}

// Excerpt returns s cut to at most n characters, with "…" when it was
// cut: what a message may show of a value a user typed or a file held,
// so that no error echoes more than a bounded part of the input.
func Excerpt(s string, n int) string {
	if n <= 0 {
		n = 1
	}
	if len(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n {
			return strings.ToValidUTF8(s[:k], "") + "…"
		}
		i++
	}
	return s
}

// ValidateEmail trims and normalises an email address and checks its
// shape: one @, a local part of at most 64 bytes in Unicode NFC without
// spaces, control or invisible characters, and a domain that IDNA (UTS
// #46, lookup profile) turns into dot-separated ASCII labels of letters,
// digits and hyphens. The result is lower case with the domain in ASCII
// (exämple.fr → xn--exmple-cua.fr), so that two spellings of one address
// compare equal. It does not resolve the domain.
func ValidateEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid("email", "required")
	}
	if len(s) > MaxEmailLen {
		return "", invalid("email", "max_bytes", MaxEmailLen)
	}
	if !utf8.ValidString(s) {
		return "", invalid("email", "not_utf8")
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", invalid("email", "email_shape", Excerpt(s, 64))
	}
	local, domain := norm.NFC.String(strings.ToLower(s[:at])), s[at+1:]
	if len(local) > 64 {
		return "", invalid("email", "email_local_long")
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return "", invalid("email", "email_dots", Excerpt(s, 64))
	}
	for _, r := range local {
		if r <= ' ' || r == 0x7f || r == '@' || r == '"' || r == '\\' || r == ',' || r == ';' || r == '<' || r == '>' || r == '(' || r == ')' || r == '[' || r == ']' || unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", invalid("email", "email_char", Excerpt(s, 64))
		}
	}
	if i, r := hiddenRune(local + "@" + domain); i >= 0 {
		return "", invalid("email", "invisible_char", r)
	}
	ascii, err := lookupDomain("email", domain)
	if err != nil {
		return "", err
	}
	out := local + "@" + ascii
	if len(out) > MaxEmailLen {
		return "", invalid("email", "max_bytes", MaxEmailLen)
	}
	return out, nil
}

// lookupDomain returns a domain name in its lookup form (IDNA UTS #46,
// lower-case ASCII labels of letters, digits and hyphens, at least one
// dot), or an error on field.
func lookupDomain(field, domain string) (string, error) {
	ascii := strings.ToLower(domain)
	if !isASCIIDomain(ascii) {
		var err error
		if ascii, err = idna.Lookup.ToASCII(domain); err != nil {
			return "", invalid(field, "domain_invalid", Excerpt(domain, 64))
		}
	}
	if len(ascii) > 253 {
		return "", invalid(field, "max_bytes", 253)
	}
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 {
		return "", invalid(field, "domain_dot", Excerpt(domain, 64))
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return "", invalid(field, "domain_invalid", Excerpt(domain, 64))
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !(c == '-' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
				return "", invalid(field, "domain_char", Excerpt(domain, 64), rune(c))
			}
		}
	}
	return ascii, nil
}

// isASCIIDomain reports a domain already in its lookup form: lower-case
// ASCII letters, digits, hyphens and dots, and no label with hyphens in
// its third and fourth places ("xn--" Punycode, "ab--cd"), which IDNA
// checks (and refuses unless they are valid Punycode).
func isASCIIDomain(d string) bool {
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	for l := range strings.SplitSeq(d, ".") {
		if len(l) >= 4 && l[2] == '-' && l[3] == '-' {
			return false
		}
	}
	return true
}

// ValidateLogin lower-cases and checks a login: 1 to [MaxLoginLen] bytes of
// a-z, 0-9 and . _ - @ +, starting and ending with a letter or digit.
func ValidateLogin(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", invalid("login", "required")
	}
	if len(s) > MaxLoginLen {
		return "", invalid("login", "max_chars", MaxLoginLen)
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if !ok && (i == 0 || i == len(s)-1 || !strings.ContainsRune("._-@+", r)) {
			return "", invalid("login", "login_chars", Excerpt(s, 64))
		}
	}
	return s, nil
}

// ValidateGroups trims group labels, drops empty ones and duplicates
// (compared without regard to case, first spelling kept) and checks each:
// at most [MaxGroupLen] characters, no control characters, at most
// [MaxGroups] labels.
func ValidateGroups(groups []string) ([]string, error) {
	if len(groups) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(groups))
	seen := make(map[string]bool, len(groups))
	for _, g := range groups {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		if !utf8.ValidString(g) || utf8.RuneCountInString(g) > MaxGroupLen || utf8.RuneCountInString(GroupKey(g)) > MaxGroupLen {
			return nil, invalid("groups", "group_label", Excerpt(g, 64), MaxGroupLen)
		}
		for _, r := range g {
			if unicode.IsControl(r) {
				return nil, invalid("groups", "control_char")
			}
		}
		if i, r := hiddenRune(g); i >= 0 {
			return nil, invalid("groups", "invisible_char", r)
		}
		g = norm.NFC.String(g)
		k := strings.ToLower(g)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, g)
	}
	if len(out) > MaxGroups {
		return nil, invalid("groups", "too_many", len(out), MaxGroups)
	}
	if n := len(strings.Join(out, "\n")); n > MaxGroupsBytes {
		return nil, invalid("groups", "groups_too_long", n, MaxGroupsBytes)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// specialFold maps the letters that Unicode decomposition leaves alone.
var specialFold = strings.NewReplacer(
	"ß", "ss", "ẞ", "ss", "æ", "ae", "Æ", "ae", "œ", "oe", "Œ", "oe",
	"ø", "o", "Ø", "o", "ł", "l", "Ł", "l", "đ", "d", "Đ", "d",
	"ð", "d", "Ð", "d", "þ", "th", "Þ", "th", "ı", "i", "ŀ", "l", "Ŀ", "l",
)

// Fold lower-cases s, folds accents (é→e, ß→ss, œ→oe, ø→o, ł→l, đ→d…)
// and collapses runs of white space to one space, trimming both ends. It is
// the comparison key for names, CSV headers and status words. ASCII input
// takes a fast path that does not allocate when s is already folded.
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		s = specialFold.Replace(s)
		s = norm.NFD.String(s)
		s = strings.Map(func(r rune) rune {
			if unicode.Is(unicode.Mn, r) {
				return -1
			}
			return r
		}, s)
		s = norm.NFC.String(s)
	}
	return collapseLower(s)
}

// collapseLower lower-cases s and collapses white space, allocating only
// when something changes.
func collapseLower(s string) string {
	clean := true
	prevSpace := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			clean = false
			break
		}
		sp := c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
		if sp && (prevSpace || c != ' ') {
			clean = false
			break
		}
		prevSpace = sp
	}
	if clean && !prevSpace {
		return s
	}
	if clean && s == "" {
		return s
	}
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

func foldKey(s string) string { return Fold(s) }

// loginPart turns one name into a login fragment: folded, apostrophes
// dropped, inner spaces and underscores to hyphens, anything outside
// [a-z0-9.-] dropped, no leading, trailing or doubled separators.
func loginPart(s string) string {
	s = Fold(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '_' || r == '-':
			b.WriteByte('-')
		case r == '.':
			b.WriteByte('.')
		}
		// apostrophes (' ’ ʼ `) and everything else: dropped
	}
	out := b.String()
	for strings.Contains(out, "--") {
		out = strings.ReplaceAll(out, "--", "-")
	}
	for strings.Contains(out, "..") {
		out = strings.ReplaceAll(out, "..", ".")
	}
	out = strings.ReplaceAll(out, ".-", ".")
	out = strings.ReplaceAll(out, "-.", ".")
	return strings.Trim(out, "-.")
}

// DefaultLogin derives the default login "prenom.nom" from a first and a
// last name: lower case, accents folded (Zoé Lefèvre-Dubois →
// zoe.lefevre-dubois), ß→ss, æ→ae, œ→oe, ø→o, ł→l, đ→d, apostrophes
// dropped (D'Artagnan → dartagnan), inner spaces to hyphens, restricted to
// [a-z0-9.-]. It is deterministic. When one name has nothing usable the
// other alone is used; when neither has, the result is "" and callers
// report a validation error. The result is cut to [MaxLoginLen] bytes.
func DefaultLogin(first, last string) string {
	f, l := loginPart(first), loginPart(last)
	var s string
	switch {
	case f != "" && l != "":
		s = f + "." + l
	default:
		s = f + l
	}
	if len(s) > MaxLoginLen-4 { // leave room for a numeric suffix
		s = strings.TrimRight(s[:MaxLoginLen-4], ".-")
	}
	return s
}

// LoginCandidate returns the n-th candidate for a base login: the base
// itself for n ≤ 1, then base2, base3, … ("prenom.nom2").
func LoginCandidate(base string, n int) string {
	if n <= 1 {
		return base
	}
	return base + strconv.Itoa(n)
}
