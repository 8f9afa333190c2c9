package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// repoRoot is the checkout: a Helm plugin directory itself (plugin.yaml).
const repoRoot = ".."

// pluginHelm is a real helm CLI with pvc-guard's plugins installed by that
// helm into the test's private Helm homes (HELM_DATA_HOME/plugins).
type pluginHelm struct {
	*testcluster.Helm
	t  *testing.T
	ns string
}

func installPlugins(t *testing.T, c *testcluster.Cluster, version testcluster.HelmVersion, ns string) *pluginHelm {
	t.Helper()
	p := &pluginHelm{Helm: c.Helm(t, version), t: t, ns: ns}
	// The checkout's own build (make build) is what these tests exercise:
	// the hook keeps it instead of downloading the release.
	p.Env = append(p.Env, "PVC_GUARD_RELEASE_URL=none")
	p.MustRun("plugin", "install", repoRoot)
	if version == testcluster.Helm4 {
		p.MustRun("plugin", "install", filepath.Join(repoRoot, "plugins", "pvc-guard-render"))
	}
	return p
}

// ok runs helm in the test namespace and fails the test on error.
func (p *pluginHelm) ok(args ...string) string {
	p.t.Helper()
	r := p.Run(append(args, "--namespace", p.ns)...)
	if r.Err != nil {
		p.t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r.Stdout + r.Stderr
}

// TestHelm3Plugin is acceptance 1 (and 4): Helm 3 installs the plugin from
// the checkout, and `helm3 pvc-guard upgrade|rollback` carry the
// Grafana-style release through, against the claim in the release's
// namespace (not the kubeconfig's), while every other plugin still loads.
func TestHelm3Plugin(t *testing.T) {
	c := testcluster.Get(t)
	ns := c.Namespace(t)
	helm := installPlugins(t, c, testcluster.Helm3, ns)
	other := writePlugin(t, "hello")
	helm.MustRun("plugin", "install", other)

	c.CreateHostPathPV(t, testcluster.VolumeOptions{StorageClassName: "manual", ClaimNamespace: ns, ClaimName: "app-data"})
	helm.ok("pvc-guard", "install", "app", appChart)
	claim := c.WaitForClaimBound(t, ns, "app-data")
	helm.ok("pvc-guard", "upgrade", "app", appChart)

	out := helm.ok("pvc-guard", "upgrade", "app", appChart, "--set", "claim.storageClassName=")
	if !strings.Contains(out, ns+"/app-data spec.storageClassName") {
		t.Errorf("the upgrade's summary does not name the preserved field:\n%s", out)
	}
	if manifest := helm.ok("get", "manifest", "app"); !strings.Contains(manifest, "# pvc-guard: spec.storageClassName") {
		t.Errorf("the stored manifest lacks pvc-guard's note:\n%s", manifest)
	}
	helm.ok("pvc-guard", "rollback", "app", "1")
	assertUnchanged(t, c.Client, claim)

	list := helm.MustRun("plugin", "list")
	for _, name := range []string{"pvc-guard", "hello"} {
		if !strings.Contains(list, name) {
			t.Errorf("helm3 plugin list lacks %s:\n%s", name, list)
		}
	}
}

// TestHelm4Plugins is acceptance 2: Helm 4 installs both plugins, upgrades
// through `--post-renderer pvc-guard-render` and rolls back with
// `helm4 pvc-guard rollback`, on client-side and server-side apply releases.
func TestHelm4Plugins(t *testing.T) {
	cases := []struct {
		name  string
		flags []string
	}{
		{"client-side apply", []string{"--server-side=false"}},
		{"server-side apply", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := testcluster.Get(t)
			ns := c.Namespace(t)
			helm := installPlugins(t, c, testcluster.Helm4, ns)
			c.CreateHostPathPV(t, testcluster.VolumeOptions{StorageClassName: "manual", ClaimNamespace: ns, ClaimName: "app-data"})

			helm.ok(append([]string{"install", "app", appChart}, tc.flags...)...)
			claim := c.WaitForClaimBound(t, ns, "app-data")
			helm.ok(append([]string{"upgrade", "app", appChart, "--set", "claim.storageClassName=",
				"--post-renderer", "pvc-guard-render", "--post-renderer-args=--namespace=" + ns}, tc.flags...)...)
			if manifest := helm.ok("get", "manifest", "app"); !strings.Contains(manifest, "# pvc-guard: spec.storageClassName") {
				t.Errorf("the stored manifest lacks pvc-guard's note:\n%s", manifest)
			}
			helm.ok("pvc-guard", "rollback", "app", "1")
			assertUnchanged(t, c.Client, claim)
		})
	}
}

// TestPluginKeepsHandExpandedSize is acceptance 3: someone grew the claim by
// hand; an upgrade through the plugin with the chart's smaller size succeeds
// and keeps the larger size.
func TestPluginKeepsHandExpandedSize(t *testing.T) {
	for _, version := range []testcluster.HelmVersion{testcluster.Helm3, testcluster.Helm4} {
		t.Run(string(version), func(t *testing.T) {
			t.Parallel()
			c := testcluster.Get(t)
			ns := c.Namespace(t)
			helm := installPlugins(t, c, version, ns)
			class := c.CreateStorageClass(t, testcluster.StorageClassOptions{AllowVolumeExpansion: true})
			c.CreateHostPathPV(t, testcluster.VolumeOptions{StorageClassName: class.Name, ClaimNamespace: ns, ClaimName: "app-data"})

			helm.ok("pvc-guard", "install", "app", appChart, "--set", "claim.storageClassName="+class.Name)
			c.WaitForClaimBound(t, ns, "app-data")
			patch := []byte(`{"spec":{"resources":{"requests":{"storage":"3Gi"}}}}`)
			if _, err := c.Client.CoreV1().PersistentVolumeClaims(ns).Patch(t.Context(), "app-data", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
				t.Fatalf("expanding the claim by hand: %v", err)
			}
			helm.ok("pvc-guard", "upgrade", "app", appChart, "--set", "claim.storageClassName="+class.Name, "--set", "message=two")
			claim, err := c.Client.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), "app-data", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := claim.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("3Gi")) != 0 {
				t.Errorf("storage request = %s, want the hand-expanded 3Gi", got.String())
			}
		})
	}
}

const boundClaimSnapshot = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: app-data, namespace: apps}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, storageClassName: manual, volumeMode: Filesystem, volumeName: pv-snapshot}
status: {phase: Bound}
`

// writePlugin makes a trivial Helm 3-format plugin directory, in the form
// every Helm 3 runs (before 3.18 a platformCommand needs a matching os).
func writePlugin(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	yaml := "name: " + name + "\nversion: 0.1.0\nusage: test plugin\ndescription: test plugin\ncommand: echo hello\n"
	if err := os.WriteFile(filepath.Join(dir, "plugin.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
