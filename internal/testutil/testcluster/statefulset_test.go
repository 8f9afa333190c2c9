package testcluster

import (
	"slices"
	"testing"
)

func TestClaimNames(t *testing.T) {
	cases := []struct {
		name string
		opts StatefulSetOptions
		want []string
	}{
		{"defaults", StatefulSetOptions{Name: "db"}, []string{"data-db-0"}},
		{"templates by ordinal", StatefulSetOptions{Name: "db", Replicas: 2, Templates: []string{"data", "logs"}},
			[]string{"data-db-0", "data-db-1", "logs-db-0", "logs-db-1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.opts.ClaimNames(); !slices.Equal(got, tc.want) {
				t.Errorf("ClaimNames() = %q, want %q", got, tc.want)
			}
		})
	}
}
