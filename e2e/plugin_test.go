package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pvc-guard/pvc-guard/internal/testcluster"
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

// TestPluginTarballs is acceptance 5: the packaged tarballs install into
// fresh plugin directories: Helm 3 from a URL (it installs archives only
// from http(s)), Helm 4 from the path (render plugin) and the URL (CLI
// plugin).
func TestPluginTarballs(t *testing.T) {
	dist := t.TempDir()
	platform := runtime.GOOS + "/" + runtime.GOARCH
	cmd := exec.CommandContext(t.Context(), "sh", filepath.Join(repoRoot, "scripts", "package.sh"))
	cmd.Env = append(os.Environ(), "DIST="+dist, "PLATFORMS="+platform)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("packaging: %v\n%s", err, out)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil || strings.Count(string(sums), ".tgz") != 2 {
		t.Fatalf("SHA256SUMS: %v\n%s", err, sums)
	}
	tarball := func(plugin string) string {
		matches, _ := filepath.Glob(filepath.Join(dist, plugin+"-[0-9]*-"+runtime.GOOS+"-"+runtime.GOARCH+".tgz"))
		if len(matches) != 1 {
			t.Fatalf("want one %s tarball in %s, found %v", plugin, dist, matches)
		}
		return matches[0]
	}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/gzip")
		http.ServeFile(w, r, filepath.Join(dist, filepath.Base(r.URL.Path)))
	}))
	defer server.Close()
	url := server.URL + "/" + filepath.Base(tarball("pvc-guard"))

	c := testcluster.Get(t)
	helm3 := c.Helm(t, testcluster.Helm3)
	helm3.MustRun("plugin", "install", url)
	if v := helm3.MustRun("pvc-guard", "version"); !strings.HasPrefix(v, "v0.") {
		t.Errorf("helm3 pvc-guard version = %q", v)
	}

	helm4 := c.Helm(t, testcluster.Helm4)
	helm4.MustRun("plugin", "install", url, "--verify=false")
	helm4.MustRun("plugin", "install", tarball("pvc-guard-render"), "--verify=false")
	if v := helm4.MustRun("pvc-guard", "version"); !strings.HasPrefix(v, "v0.") {
		t.Errorf("helm4 pvc-guard version = %q", v)
	}
	// The CLI tarball carries pvc-guard-rollback, which `helm pvc-guard
	// rollback` runs from the plugin's bin/.
	for _, helm := range []*testcluster.Helm{helm3, helm4} {
		if v := helm.MustRun("pvc-guard", "rollback", "--version"); !strings.HasPrefix(v, "pvc-guard-rollback v0.") {
			t.Errorf("%s pvc-guard rollback --version = %q", filepath.Base(helm.Bin), v)
		}
	}
	live := filepath.Join(t.TempDir(), "live.yaml")
	if err := os.WriteFile(live, []byte(boundClaimSnapshot), 0o600); err != nil {
		t.Fatal(err)
	}
	out := helm4.MustRun("template", "app", appChart, "--namespace", "apps",
		"--post-renderer", "pvc-guard-render", "--post-renderer-args=--namespace=apps", "--post-renderer-args=--live-state="+live)
	if !strings.Contains(out, "volumeName: pv-snapshot") {
		t.Errorf("helm4 template through the packaged post-renderer did not preserve volumeName:\n%s", out)
	}
}

const boundClaimSnapshot = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: app-data, namespace: apps}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, storageClassName: manual, volumeMode: Filesystem, volumeName: pv-snapshot}
status: {phase: Bound}
`

// writePlugin makes a trivial Helm 3-format plugin directory.
func writePlugin(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	yaml := "name: " + name + "\nversion: 0.1.0\nusage: test plugin\ndescription: test plugin\nplatformCommand:\n  - command: echo\n    args: [hello]\n"
	if err := os.WriteFile(filepath.Join(dir, "plugin.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
