package testcluster

import "testing"

func TestDNSLabel(t *testing.T) {
	cases := []struct {
		name string
		max  int
		want string
	}{
		{"TestHarnessIsReal", 40, "testharnessisreal"},
		{"TestStockRollback/helm4_client-side_apply", 63, "teststockrollback-helm4-client-side-apply"},
		{"TestStockRollback/helm4_client-side_apply", 24, "teststockrollback-helm4"}, // no trailing dash
		{"Test/___/", 40, "test"},
		{"___", 40, "test"},
	}
	for _, tc := range cases {
		if got := dnsLabel(tc.name, tc.max); got != tc.want {
			t.Errorf("dnsLabel(%q, %d) = %q, want %q", tc.name, tc.max, got, tc.want)
		}
	}
}
