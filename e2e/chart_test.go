package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// chart is our reproduction of the real-world pattern: the claim template
// looks up the live claim and renders the volumeName it was bound to.
const chart = "../examples/grafana-like"

// TestStockRollback pins down the bug pvc-guard exists for, with the real
// Helm CLIs: revision 1 of the chart renders the claim without volumeName,
// revision 2 (after binding) with it, and rolling back to revision 1 asks
// the API server to clear volumeName. Client-side apply (Helm 3, Helm 4 with
// --server-side=false) is refused; Helm 4's default server-side apply gets
// through because kube-controller-manager co-owns the field.
func TestStockRollback(t *testing.T) {
	c := testcluster.Get(t)
	cases := []struct {
		name        string
		helm        testcluster.HelmVersion
		flags       []string // added to install, upgrade and rollback
		wantRefused bool
	}{
		{"helm3", testcluster.Helm3, nil, true},
		{"helm4 client-side apply", testcluster.Helm4, []string{"--server-side=false"}, true},
		{"helm4 server-side apply", testcluster.Helm4, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := c.Namespace(t)
			helm := c.Helm(t, tc.helm)
			const release = "app"
			claim := release + "-grafana-like" // the chart's naming
			pv := c.CreateHostPathPV(t, testcluster.VolumeOptions{
				StorageClassName: "manual", ClaimNamespace: ns, ClaimName: claim,
			})
			run := func(args ...string) testcluster.Result {
				return helm.Run(append(append(args, "--namespace", ns), tc.flags...)...)
			}
			mustRun := func(args ...string) {
				t.Helper()
				if r := run(args...); r.Err != nil {
					t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), r.Err, r.Stderr)
				}
			}

			mustRun("install", release, chart)
			bound := c.WaitForClaimBound(t, ns, claim)
			if bound.Spec.VolumeName != pv.Name {
				t.Fatalf("claim bound to %q, want %q", bound.Spec.VolumeName, pv.Name)
			}
			if m := helm.MustRun("get", "manifest", release, "--revision", "1", "--namespace", ns); strings.Contains(m, "volumeName:") {
				t.Fatalf("revision 1 renders volumeName:\n%s", m)
			}

			mustRun("upgrade", release, chart)
			if m := helm.MustRun("get", "manifest", release, "--revision", "2", "--namespace", ns); !strings.Contains(m, "volumeName: "+pv.Name) {
				t.Fatalf("revision 2 does not render volumeName: %s:\n%s", pv.Name, m)
			}

			r := run("rollback", release, "1")
			switch {
			case tc.wantRefused && r.Err == nil:
				t.Errorf("rollback succeeded, want it refused with %q", immutableMessage)
			case tc.wantRefused && !strings.Contains(r.Stderr, immutableMessage):
				t.Errorf("rollback failed without %q: %v\n%s", immutableMessage, r.Err, r.Stderr)
			case !tc.wantRefused && r.Err != nil:
				t.Errorf("rollback failed: %v\n%s", r.Err, r.Stderr)
			}
			assertUnchanged(t, c.Client, bound)
		})
	}
}

// TestVersionsStamped checks that the binaries carry real release versions:
// unstamped builds report v0.0.0-master (kube-apiserver) or a bare minor
// (helm), which would break charts that check .Capabilities or Helm's version.
func TestVersionsStamped(t *testing.T) {
	c := testcluster.Get(t)
	server, err := c.Client.Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("reading the server version: %v", err)
	}
	cases := []struct {
		name, version string
		want          *regexp.Regexp
	}{
		{"kube-apiserver", server.GitVersion, regexp.MustCompile(`^v1\.[0-9]+\.[0-9]+$`)},
		{"helm3", helmVersion(t, c.Helm(t, testcluster.Helm3)), regexp.MustCompile(`^v3\.[0-9]+\.[0-9]+$`)},
		{"helm4", helmVersion(t, c.Helm(t, testcluster.Helm4)), regexp.MustCompile(`^v4\.[0-9]+\.[0-9]+$`)},
	}
	for _, tc := range cases {
		if !tc.want.MatchString(tc.version) {
			t.Errorf("%s reports version %q, want a match for %s", tc.name, tc.version, tc.want)
		}
	}
}

func helmVersion(t *testing.T, helm *testcluster.Helm) string {
	t.Helper()
	return strings.TrimSpace(helm.MustRun("version", "--template", "{{.Version}}"))
}
