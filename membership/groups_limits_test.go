package membership_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/memberkit/memberkit/membership"
)

// A directory's group names and a person's many groups fit; past the
// bounds the error names the field.
func TestGroupBounds(t *testing.T) {
	long := strings.Repeat("é", membership.MaxGroupLen)
	if _, err := membership.ValidateGroups([]string{long}); err != nil {
		t.Fatalf("a %d-character label: %v", membership.MaxGroupLen, err)
	}
	if _, err := membership.ValidateGroups([]string{long + "x"}); !errors.Is(err, membership.ErrInvalid) {
		t.Fatalf("a longer label: %v", err)
	}
	many := make([]string, membership.MaxGroups)
	for i := range many {
		many[i] = fmt.Sprintf("Groupe %03d", i)
	}
	if _, err := membership.ValidateGroups(many); err != nil {
		t.Fatalf("%d labels: %v", len(many), err)
	}
	if _, err := membership.ValidateGroups(append(many, "one more")); !errors.Is(err, membership.ErrInvalid) {
		t.Fatalf("one label too many: %v", err)
	}
	heavy := make([]string, membership.MaxGroups)
	for i := range heavy {
		heavy[i] = fmt.Sprintf("%03d", i) + strings.Repeat("€", 100) // 303 bytes each
	}
	_, err := membership.ValidateGroups(heavy)
	var ve *membership.ValidationError
	if !errors.As(err, &ve) || ve.Field != "groups" {
		t.Fatalf("labels over %d bytes in all: %v", membership.MaxGroupsBytes, err)
	}
}
