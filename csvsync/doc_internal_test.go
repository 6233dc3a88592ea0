package csvsync

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

var twoSpaces = regexp.MustCompile(`\s{2,}`)

// The package doc lists every header spelling Parse reads.
func TestDocListsEveryHeader(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		// "//\tTitle   spelling, spelling, …": the title, two spaces or
		// more, the spellings.
		parts := twoSpaces.Split(strings.TrimPrefix(line, "//\t"), 2)
		if !strings.HasPrefix(line, "//\t") || len(parts) != 2 {
			continue
		}
		for _, h := range strings.Split(parts[1], ",") {
			listed[headerKey(h)] = true
		}
	}
	for alias, col := range headerAliases {
		if !listed[alias] {
			t.Errorf("the package doc does not list the header %q (column %d)", alias, col)
		}
	}
}
