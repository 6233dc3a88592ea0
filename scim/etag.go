package scim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Entity tags (RFC 7644 §3.14): a member's is its Version, a group's its
// directory.Tag; both shown weak.

// etag is a member's version as SCIM shows it (meta.version, ETag).
func etag(v int64) string { return etagOf(strconv.FormatInt(v, 10)) }

func etagOf(tag string) string { return `W/"` + tag + `"` }

// ifMatch returns the entity tags an If-Match header lists (without W/
// and quotes): nil when there is none or it is "*"; an empty list, which
// matches nothing, when it lists no usable tag.
func ifMatch(r *http.Request) []string {
	v, ok := r.Header["If-Match"]
	if !ok {
		return nil
	}
	h := strings.Join(v, ",")
	if strings.TrimSpace(h) == "*" {
		return nil
	}
	tags := etags(h)
	if tags == nil {
		return []string{}
	}
	return tags
}

func etags(header string) []string {
	var out []string
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return nil
		}
		if t = strings.Trim(strings.TrimPrefix(t, "W/"), `"`); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// matchesETag reports whether an If-None-Match header names tag.
func matchesETag(header, tag string) bool {
	if strings.TrimSpace(header) == "*" {
		return true
	}
	return slices.Contains(etags(header), tag)
}

// stale is the 412 of a write asked against another version.
func stale(tags []string, current string) error {
	if tags == nil || slices.Contains(tags, current) {
		return nil
	}
	return &Error{Status: http.StatusPreconditionFailed, Detail: "the resource changed: it is at " + etagOf(current) + ", not " + strings.Join(tags, ", ")}
}
