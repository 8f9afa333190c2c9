package e2e

import (
	"cmp"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	kubeversion "k8s.io/apimachinery/pkg/util/version"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// chartLabels makes the db chart label its claim templates with
// helm.sh/chart: db-VERSION, so that a chart version bump changes the set's
// immutable volumeClaimTemplates. The bump changes the pod template too;
// OnDelete keeps the controller from replacing the pods, so that the set
// still controlling the installed pods shows it was updated in place.
var chartLabels = []string{"--set", "persistence.chartLabels=true", "--set", "updateStrategy.type=OnDelete"}

// TestStatefulSetRules is issue 11 acceptance 1 and 2 with helm3 and helm4,
// each through pvc-guard as Helm's post-renderer and as `helm pvc-guard
// upgrade`. Acceptance 3 (a rollback to a smaller template after growth
// keeps the live size) is TestExpandVolumes' rollback.
func TestStatefulSetRules(t *testing.T) {
	for _, version := range helms {
		for _, plugin := range []bool{false, true} {
			name := string(version) + " " + map[bool]string{false: "--post-renderer", true: "helm pvc-guard upgrade"}[plugin]
			t.Run(name+" chart version bump", func(t *testing.T) {
				t.Parallel()
				testChartVersionBump(t, version, plugin)
			})
		}
		for _, tc := range []struct {
			name  string
			chart func(t *testing.T, d *dbRelease) string
			args  []string
			field string
		}{
			// The renamed chart's pods carry app.kubernetes.io/name: db2,
			// which the live selector does not select.
			{name: "selector change", chart: renamedChart, field: "spec.selector"},
			{name: "template storage growth", args: []string{"--set", "persistence.size=2Gi"},
				field: "spec.volumeClaimTemplates[metadata.name=data].spec.resources.requests.storage"},
		} {
			t.Run(string(version)+" "+tc.name+" is refused", func(t *testing.T) {
				t.Parallel()
				d := installDB(t, version, false)
				if tc.chart != nil {
					d.chart = tc.chart(t, d)
				}
				before := snapshotNamespace(t, &history{t: t, c: d.c, ns: d.ns})
				for _, plugin := range []bool{false, true} {
					if plugin {
						d.MustRun("plugin", "install", repoRoot)
					}
					d.plugin = plugin
					res, report := d.guardedUpgrade(tc.args...)
					if res.Err == nil {
						t.Fatalf("the upgrade (plugin %v) succeeded", plugin)
					}
					if !plugin && !strings.Contains(report, tc.field) {
						t.Errorf("the post-renderer's report lacks %q:\n%s", tc.field, report)
					}
					if plugin || version == testcluster.Helm3 {
						assertStderr(t, res, tc.field)
					}
					d.assertNothingChanged(1)
					if after := snapshotNamespace(t, &history{t: t, c: d.c, ns: d.ns}); !slices.Equal(after, before) {
						t.Errorf("the refused upgrade (plugin %v) changed the namespace:\n%v\nwas\n%v", plugin, after, before)
					}
				}
			})
		}
	}
}

// testChartVersionBump: the db chart at 0.1.0 with chartLabels, then 0.2.0.
// Stock helm's upgrade is refused by the API server; pvc-guard's keeps the
// live template labels, in the set and in the stored manifest.
func testChartVersionBump(t *testing.T, version testcluster.HelmVersion, plugin bool) {
	d := installDB(t, version, false, chartLabels...)
	d.extra = chartLabels
	d.chart = packagedChart(t, d, "0.2.0")
	if d.plugin = plugin; plugin {
		d.MustRun("plugin", "install", repoRoot)
	}
	live := maps.Clone(d.set.Spec.VolumeClaimTemplates[0].Labels)
	if live["helm.sh/chart"] != "db-0.1.0" {
		t.Fatalf("the installed template labels are %v, want helm.sh/chart: db-0.1.0", live)
	}

	stock := d.Run(append([]string{"upgrade", "db", d.chart, "-n", d.ns, "--set", "persistence.storageClass=" + d.class}, chartLabels...)...)
	if stock.Err == nil {
		t.Fatal("stock helm upgrade succeeded; the claim templates' labels are immutable")
	}
	assertTemplatesRefused(t, d.c, stock)

	if res, _ := d.guardedUpgrade(); res.Err != nil {
		t.Fatalf("the upgrade through pvc-guard: %v", res.Err)
	}
	d.assertBumpedInPlace(live)
	if got := storedSet(t, d).Spec.VolumeClaimTemplates[0].Labels; !maps.Equal(got, live) {
		t.Errorf("the stored manifest's template labels are %v, want the live %v", got, live)
	}
}

// assertBumpedInPlace checks the upgrade of the chart bump: the same set
// (same UID, its pods and 1Gi claims kept) carries the new chart label, its
// templates keep the installed labels, and the last revision is deployed.
func (d *dbRelease) assertBumpedInPlace(live map[string]string) {
	d.t.Helper()
	set := d.assertSet("1Gi")
	if set.UID != d.set.UID {
		d.t.Errorf("the set was re-created: uid %s, was %s", set.UID, d.set.UID)
	}
	if got := set.Labels["helm.sh/chart"]; got != "db-0.2.0" {
		d.t.Errorf("the set is labelled helm.sh/chart: %s, want db-0.2.0 (the upgrade was not applied)", got)
	}
	if got := set.Spec.VolumeClaimTemplates[0].Labels; !maps.Equal(got, live) {
		d.t.Errorf("the live template labels are %v, want the installed %v", got, live)
	}
	d.assertClaims("1Gi")
	if revs := d.history("db"); revs[len(revs)-1].Status != "deployed" {
		d.t.Errorf("latest revision %+v, want deployed", revs[len(revs)-1])
	}
}

// guardedUpgrade upgrades through pvc-guard: `helm pvc-guard upgrade` when
// d.plugin, else stock helm with pvc-guard as its post-renderer (Helm 4
// names the pvc-guard-render plugin, Helm 3 the binary), which writes its
// --report to a file whose content is returned: Helm 4 drops a
// post-renderer's stderr, so the report is how its message reaches the user.
func (d *dbRelease) guardedUpgrade(args ...string) (res testcluster.Result, report string) {
	d.t.Helper()
	if d.plugin {
		return d.upgrade(args...), ""
	}
	postRenderer := pvcGuardBinary(d.t)
	if d.helm == testcluster.Helm4 {
		postRenderer = "pvc-guard-render"
	}
	reportFile := filepath.Join(d.t.TempDir(), "report.json")
	args = append(append([]string{"upgrade", "db", cmp.Or(d.chart, dbChart), "-n", d.ns, "--set", "persistence.storageClass=" + d.class}, d.extra...), args...)
	args = append(args, "--post-renderer", postRenderer, "--post-renderer-args=--namespace="+d.ns, "--post-renderer-args=--report="+reportFile)
	res = d.Run(args...)
	data, err := os.ReadFile(reportFile)
	if err != nil && !os.IsNotExist(err) {
		d.t.Fatal(err)
	}
	return res, string(data)
}

// packagedChart is the db chart packaged at version.
func packagedChart(t *testing.T, d *dbRelease, version string) string {
	t.Helper()
	dir := t.TempDir()
	d.MustRun("package", dbChart, "--version", version, "--destination", dir)
	return filepath.Join(dir, "db-"+version+".tgz")
}

// renamedChart is a copy of the db chart named db2, whose selector labels
// differ from the installed release's.
func renamedChart(t *testing.T, _ *dbRelease) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "db2")
	if err := os.CopyFS(dir, os.DirFS(dbChart)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "Chart.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	renamed := strings.Replace(string(data), "\nname: db\n", "\nname: db2\n", 1)
	if renamed == string(data) {
		t.Fatalf("%s has no line name: db", path)
	}
	if err := os.WriteFile(path, []byte(renamed), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// storedSet is the StatefulSet of the release's stored manifest.
func storedSet(t *testing.T, d *dbRelease) *appsv1.StatefulSet {
	t.Helper()
	for _, obj := range decodeObjects(t, d.MustRun("get", "manifest", "db", "-n", d.ns)) {
		if set, ok := obj.(*appsv1.StatefulSet); ok {
			return set
		}
	}
	t.Fatal("the stored manifest has no StatefulSet")
	return nil
}

// assertTemplatesRefused checks that the API server refused res's change to
// a StatefulSet's claim templates, in the words of its Kubernetes minor:
// 1.37 names the four immutable fields one by one; older servers refuse any
// spec change outside the list of mutable fields.
func assertTemplatesRefused(t *testing.T, c *testcluster.Cluster, res testcluster.Result) {
	t.Helper()
	refusal := []string{"spec: Forbidden: updates to statefulset spec for fields other than"}
	if kubeversion.MustParseGeneric(c.KubeVersion).AtLeast(kubeversion.MajorMinor(1, 37)) {
		refusal = []string{"spec.volumeClaimTemplates: Invalid value", "field is immutable"}
	}
	for _, want := range refusal {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("the refusal lacks %q (Kubernetes %s):\n%s", want, c.KubeVersion, res.Stderr)
		}
	}
}
