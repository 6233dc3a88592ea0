package membership

import (
	"encoding/xml"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Attribute limits: a member carries at most [MaxAttributes] host
// attributes, each key 1 to [MaxAttributeKeyLen] bytes of a-z, 0-9 and
// . _ - starting with a letter, each value at most [MaxAttributeValueLen]
// bytes of printable UTF-8.
const (
	MaxAttributes        = 16
	MaxAttributeKeyLen   = 32
	MaxAttributeValueLen = 256
)

// Attributes are a member's host attributes: small key=value facts the
// host keeps with the membership ("department": "Ventes", "cost_center":
// "FR-31"), filterable in listings, carried in audit events and in CSV
// files when the caller names their columns. They are not secrets and not
// permissions: never decide access on them without the host's own check.
type Attributes map[string]string

// ValidAttributeKey reports whether k may name an attribute.
func ValidAttributeKey(k string) bool {
	if k == "" || len(k) > MaxAttributeKeyLen || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidateAttributes checks and normalises attributes: values trimmed and
// in NFC, an empty value dropped (setting a key to "" removes it), and the
// bounds above. Errors name the field "attributes.<key>" (or "attributes"
// for their number). It returns nil for no attribute.
func ValidateAttributes(attrs Attributes) (Attributes, error) {
	if len(attrs) == 0 {
		return nil, nil
	}
	out := make(Attributes, len(attrs))
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		if !ValidAttributeKey(k) {
			return nil, invalid("attributes", "attribute_key", Excerpt(k, MaxAttributeKeyLen), MaxAttributeKeyLen)
		}
		v := strings.TrimSpace(attrs[k])
		if v == "" {
			continue
		}
		field := "attributes." + k
		if !utf8.ValidString(v) {
			return nil, invalid(field, "not_utf8")
		}
		v = norm.NFC.String(v)
		if len(v) > MaxAttributeValueLen {
			return nil, invalid(field, "too_many_bytes", len(v), MaxAttributeValueLen)
		}
		if strings.ContainsFunc(v, unicode.IsControl) {
			return nil, invalid(field, "control_char")
		}
		if i, r := hiddenRune(v); i >= 0 {
			return nil, invalid(field, "invisible_char", r)
		}
		out[k] = v
	}
	if len(out) > MaxAttributes {
		return nil, invalid("attributes", "too_many", len(out), MaxAttributes)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// Normalized returns the attributes with their values as stored: trimmed
// and in NFC. Empty values stay (in a change they remove a key; in a
// filter they select members without it). Use it on values people typed
// before comparing them with stored ones.
func (a Attributes) Normalized() Attributes {
	if a == nil {
		return nil
	}
	out := make(Attributes, len(a))
	for k, v := range a {
		out[k] = norm.NFC.String(strings.TrimSpace(v))
	}
	return out
}

// Clone returns a copy of the attributes (nil for none).
func (a Attributes) Clone() Attributes {
	if len(a) == 0 {
		return nil
	}
	return maps.Clone(a)
}

// Equal reports whether a and b hold the same keys and values (nil and
// empty are equal).
func (a Attributes) Equal(b Attributes) bool { return maps.Equal(a, b) }

// Merge returns a with the changes in set applied: a key set to "" is
// removed. Neither a nor set is modified.
func (a Attributes) Merge(set Attributes) Attributes {
	out := a.Clone()
	for k, v := range set {
		if v == "" {
			delete(out, k)
			continue
		}
		if out == nil {
			out = Attributes{}
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// MarshalXML writes the attributes as <attribute key="…">value</attribute>
// elements, by key (encoding/xml has no encoding of maps).
func (a Attributes) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		el := xml.StartElement{Name: xml.Name{Local: "attribute"}, Attr: []xml.Attr{{Name: xml.Name{Local: "key"}, Value: k}}}
		if err := e.EncodeElement(a[k], el); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// UnmarshalXML reads what MarshalXML writes.
func (a *Attributes) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var doc struct {
		Items []struct {
			Key   string `xml:"key,attr"`
			Value string `xml:",chardata"`
		} `xml:"attribute"`
	}
	if err := d.DecodeElement(&doc, &start); err != nil {
		return err
	}
	if len(doc.Items) == 0 {
		*a = nil
		return nil
	}
	*a = make(Attributes, len(doc.Items))
	for _, it := range doc.Items {
		(*a)[it.Key] = it.Value
	}
	return nil
}
