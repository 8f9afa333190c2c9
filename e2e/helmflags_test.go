package e2e

import (
	"reflect"
	"testing"

	"github.com/pvc-guard/pvc-guard/internal/helmflags"
	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// TestHelmFlagTableIsHelms: internal/helmflags/helm.txt, from which
// `pvc-guard upgrade|install` learn which of Helm's flags take a value, is
// what the real helm3 and helm4 print in --help (regenerate it with
// hack/helmflags when Helm changes).
func TestHelmFlagTableIsHelms(t *testing.T) {
	c := testcluster.Get(t)
	for major, version := range map[string]testcluster.HelmVersion{"v3": testcluster.Helm3, "v4": testcluster.Helm4} {
		helm := c.Helm(t, version)
		for _, verb := range []string{"upgrade", "install"} {
			want := helmflags.FromHelp(helm.MustRun(verb, "--help"))
			got, err := helmflags.Flags(major, verb)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("helm.txt for %s %s:\n%+v\n%s %s --help:\n%+v", major, verb, got, version, verb, want)
			}
		}
	}
}
