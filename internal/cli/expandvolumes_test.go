package cli

import (
	"strings"
	"testing"
)

// TestValidateExpandVolumes: Helm's --dry-run keeps Helm's meaning, and
// cannot dry-run a growth that changes the cluster before Helm runs.
func TestValidateExpandVolumes(t *testing.T) {
	tests := []struct {
		args string
		want string // error; empty means valid
	}{
		{args: "db ./chart --expand-volumes --dry-run", want: "use --expand-volumes-plan"},
		{args: "db ./chart --expand-volumes-plan --dry-run=server"}, // read-only either way
		{args: "db ./chart --expand-volumes --atomic"},
		{args: "db ./chart --expand-volumes-plan"},
		{args: "db ./chart --dry-run"},
	}
	for _, tt := range tests {
		for _, major := range []string{"v3", "v4"} {
			t.Run(major+" "+tt.args, func(t *testing.T) {
				o := &HelmRunOptions{Verb: "upgrade", major: major}
				h, err := readHelmArgs(o, major, "upgrade", strings.Fields(tt.args))
				if err != nil {
					t.Fatal(err)
				}
				o.helm = h
				err = o.Validate()
				if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Validate() = %v, want %q", err, tt.want)
				}
			})
		}
	}
}
