package renderer

import (
	"fmt"
	"strings"
	"testing"
)

func TestSummaryNamesAFewFieldsAndCountsTheRest(t *testing.T) {
	rewrites := func(n int) []Finding {
		var fs []Finding
		for i := range n {
			fs = append(fs, Finding{Namespace: "apps", Name: fmt.Sprintf("data-%d", i), Field: "spec.volumeName"})
		}
		return fs
	}
	tests := []struct {
		name      string
		rewrites  int
		wantNamed int
		wantTail  string
	}{
		{"nothing preserved", 0, 0, "0 conflict(s)"},
		{"a few fields, all named", 3, 3, "apps/data-2 spec.volumeName"},
		{"many fields, the rest counted", 25, summaryFields, "and 15 more (--report lists them all)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := (&Report{Rewrites: rewrites(tt.rewrites)}).Summary()
			if named := strings.Count(got, "spec.volumeName"); named != tt.wantNamed {
				t.Errorf("names %d fields, want %d: %s", named, tt.wantNamed, got)
			}
			if !strings.HasSuffix(got, tt.wantTail) {
				t.Errorf("summary %q does not end with %q", got, tt.wantTail)
			}
		})
	}
}
