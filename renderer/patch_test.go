package renderer

import "testing"

func TestIsPlainWord(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"pv-data", true},
		{"pvc-6f1c2a44-0000-4000-8000-000000000001", true},
		{"2Gi", true},
		{"Filesystem", true},
		{"kubernetes.io/aws-ebs", true},
		{"", false},
		{"yes", false},
		{"On", false},
		{"null", false},
		{"1024", false},
		{"1e3", false},
		{"1_000", false},
		{"0x1F", false},
		{".inf", false},
		{"-x", false},
		{"a b", false},
		{"a:b", false},
		{"a#b", false},
	}
	for _, tt := range tests {
		if got := isPlainWord(tt.text); got != tt.want {
			t.Errorf("isPlainWord(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}
