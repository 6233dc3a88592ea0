package main

import (
	"context"
	"path/filepath"
	"testing"
)

func TestSnippetRuns(t *testing.T) {
	if err := run(context.Background(), filepath.Join(t.TempDir(), "m.db")); err != nil {
		t.Fatal(err)
	}
}
