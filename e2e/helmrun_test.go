package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// helmRun is `pvc-guard upgrade|install` run directly (not as a plugin),
// with a real helm as $HELM_BIN.
type helmRun struct {
	*testcluster.Helm
	t  *testing.T
	ns string
}

func newHelmRun(t *testing.T, c *testcluster.Cluster, version testcluster.HelmVersion) *helmRun {
	t.Helper()
	r := &helmRun{Helm: c.Helm(t, version), t: t, ns: c.Namespace(t)}
	// Plugins from the checkout keep its own build (make build) rather than
	// download the release of plugin.yaml's version.
	r.Env = append(r.Env, "PVC_GUARD_RELEASE_URL=none")
	if version == testcluster.Helm4 {
		r.MustRun("plugin", "install", filepath.Join(repoRoot, "plugins", "pvc-guard-render"))
	}
	return r
}

// pvcGuard runs pvc-guard with Helm's environment plus env.
func (r *helmRun) pvcGuard(env []string, args ...string) testcluster.Result {
	r.t.Helper()
	cmd := exec.CommandContext(r.t.Context(), pvcGuardBinary(r.t), args...)
	cmd.Env = append(append(r.Env, "HELM_BIN="+r.Bin), env...)
	res := runCommand(cmd)
	r.t.Logf("$ pvc-guard %s (%v)\n%s%s", strings.Join(args, " "), res.Err, res.Stdout, res.Stderr)
	return res
}

func (r *helmRun) history(release string) []revision {
	r.t.Helper()
	var revs []revision
	if err := json.Unmarshal([]byte(r.MustRun("history", release, "-n", r.ns, "-o", "json")), &revs); err != nil {
		r.t.Fatalf("reading history: %v", err)
	}
	return revs
}

// TestHelmRunReadsHelmsNamespace is issue 10 items 1 and 2: a decoy claim
// dec-data is bound in the kubeconfig's namespace; `pvc-guard install dec
// CHART -n target` must read claims in target, as Helm does, and so not copy
// the decoy's volumeName into the new claim. KUBECONFIG is a list whose
// first file is missing, as Helm and kubectl accept it. The kubeconfig's
// namespace is one of the test's own rather than "default", which every
// test process on a shared cluster would share (and a killed run would
// leave its decoy in).
func TestHelmRunReadsHelmsNamespace(t *testing.T) {
	for _, tc := range []struct {
		helm      testcluster.HelmVersion
		namespace func(ns string) []string
	}{
		{testcluster.Helm3, func(ns string) []string { return []string{"-n", ns} }},
		{testcluster.Helm4, func(ns string) []string { return []string{"--namespace=" + ns} }},
	} {
		t.Run(string(tc.helm), func(t *testing.T) {
			t.Parallel()
			c := testcluster.Get(t)
			r := newHelmRun(t, c, tc.helm)
			decoyNS := c.Namespace(t)
			decoy := bindClaim(t, c, decoyNS, "dec-data")
			kubeconfig := "KUBECONFIG=" + filepath.Join(t.TempDir(), "missing") + string(filepath.ListSeparator) + namespacedKubeconfig(t, c, decoyNS)
			res := r.pvcGuard([]string{kubeconfig}, append([]string{"install", "dec", appChart}, tc.namespace(r.ns)...)...)
			if res.Err != nil {
				t.Fatalf("pvc-guard install: %v\n%s%s", res.Err, res.Stdout, res.Stderr)
			}
			claim, err := c.Client.CoreV1().PersistentVolumeClaims(r.ns).Get(t.Context(), "dec-data", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if claim.Spec.VolumeName != "" {
				t.Errorf("the new claim %s/dec-data got volumeName %q: the renderer read the decoy in %s", r.ns, claim.Spec.VolumeName, decoyNS)
			}
			if !strings.Contains(res.Stderr, "0 live") {
				t.Errorf("the summary should find no live claim in %s:\n%s", r.ns, res.Stderr)
			}
			assertUnchanged(t, c.Client, decoy)
		})
	}
}

// namespacedKubeconfig writes a copy of the cluster's admin kubeconfig whose
// current context has namespace ns.
func namespacedKubeconfig(t *testing.T, c *testcluster.Cluster, ns string) string {
	t.Helper()
	config, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatalf("reading the admin kubeconfig: %v", err)
	}
	current, ok := config.Contexts[config.CurrentContext]
	if !ok {
		t.Fatalf("%s: no current context %q", c.Kubeconfig, config.CurrentContext)
	}
	current.Namespace = ns
	path := filepath.Join(t.TempDir(), "namespaced.kubeconfig")
	if err := clientcmd.WriteToFile(*config, path); err != nil {
		t.Fatalf("writing kubeconfig: %v", err)
	}
	return path
}

// TestHelmRunRollbackOnFailure is issue 10 item 3: an upgrade through
// `pvc-guard upgrade --atomic` (Helm 4: --rollback-on-failure) times out
// waiting for a Deployment that never becomes ready. Helm's own automatic
// rollback would replay revision 1 without the claim's volumeName and be
// refused; pvc-guard's ends deployed at "Rollback to 1" with the same claim.
func TestHelmRunRollbackOnFailure(t *testing.T) {
	cases := []struct {
		name   string
		helm   testcluster.HelmVersion
		flags  []string
		owned  string
		plugin bool // run as `helm pvc-guard upgrade`, which gets -n as $HELM_NAMESPACE
	}{
		{"helm3 --atomic", testcluster.Helm3, nil, "--atomic", false},
		{"helm4 --rollback-on-failure", testcluster.Helm4, []string{"--server-side=false"}, "--rollback-on-failure", false},
		{"helm4 --atomic", testcluster.Helm4, []string{"--server-side=false"}, "--atomic", false},
		{"helm3 pvc-guard upgrade --atomic", testcluster.Helm3, nil, "--atomic", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := testcluster.Get(t)
			r := newHelmRun(t, c, tc.helm)
			c.CreateHostPathPV(t, testcluster.VolumeOptions{StorageClassName: "manual", ClaimNamespace: r.ns, ClaimName: "app-data"})
			r.MustRun(append([]string{"install", "app", appChart, "-n", r.ns}, tc.flags...)...)
			claim := c.WaitForClaimBound(t, r.ns, "app-data")

			upgrade := append([]string{"upgrade", "app", appChart, "-n", r.ns, tc.owned, "--timeout", "5s", "--set", "neverReady=true"}, tc.flags...)
			var res testcluster.Result
			if tc.plugin {
				r.MustRun("plugin", "install", repoRoot)
				res = r.Run(append([]string{"pvc-guard"}, upgrade...)...)
			} else {
				res = r.pvcGuard(nil, upgrade...)
			}
			if res.Err == nil {
				t.Fatal("the upgrade succeeded; it must time out")
			}
			if want := "release app failed, and has been rolled back to revision 1 by pvc-guard rollback"; !strings.Contains(res.Stderr, want) {
				t.Errorf("stderr lacks %q", want)
			}
			revs := r.history("app")
			var got []string
			for _, rev := range revs {
				got = append(got, fmt.Sprintf("%d %s", rev.Revision, rev.Status))
			}
			if want := "1 superseded, 2 failed, 3 deployed"; strings.Join(got, ", ") != want || revs[2].Description != "Rollback to 1" {
				t.Errorf("history %v (last: %q), want %s, the last \"Rollback to 1\"", got, revs[len(revs)-1].Description, want)
			}
			assertUnchanged(t, c.Client, claim)
			if _, err := c.Client.AppsV1().Deployments(r.ns).Get(t.Context(), "app-never-ready", metav1.GetOptions{}); err == nil {
				t.Error("the failed revision's Deployment survived the rollback")
			}
		})
	}
}

// TestHelmRunAtomicInstall: an install through `pvc-guard install --atomic`
// that times out is uninstalled, as Helm's own --atomic does.
func TestHelmRunAtomicInstall(t *testing.T) {
	for _, version := range []testcluster.HelmVersion{testcluster.Helm3, testcluster.Helm4} {
		t.Run(string(version), func(t *testing.T) {
			t.Parallel()
			r := newHelmRun(t, testcluster.Get(t), version)
			res := r.pvcGuard(nil, "install", "app", appChart, "-n", r.ns, "--atomic", "--timeout", "5s", "--set", "neverReady=true", "--set", "claim.enabled=false")
			if res.Err == nil {
				t.Fatal("the install succeeded; it must time out")
			}
			if want := "release app failed, and has been uninstalled due to --atomic being set"; !strings.Contains(res.Stderr, want) {
				t.Errorf("stderr lacks %q", want)
			}
			if h := r.Run("history", "app", "-n", r.ns); h.Err == nil || !strings.Contains(h.Stderr, "not found") {
				t.Errorf("the release is still there: %v\n%s%s", h.Err, h.Stdout, h.Stderr)
			}
		})
	}
}
