package e2e

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/diff"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

const dbChart = "../testdata/charts/db"

// dbRelease is the db chart installed as release db: a two-replica
// StatefulSet whose claims data-db-0 and data-db-1 (1Gi) are bound, and
// whose pods the set controls.
type dbRelease struct {
	*helmRun
	c      *testcluster.Cluster
	helm   testcluster.HelmVersion
	class  string
	dir    string // pvc-guard's working directory, where it saves sets
	set    *appsv1.StatefulSet
	claims []*corev1.PersistentVolumeClaim
	pods   map[string]types.UID
	// plugin runs `helm pvc-guard upgrade`, the CLI plugin, which gets -n
	// as $HELM_NAMESPACE.
	plugin bool
	// extra are more arguments for every upgrade.
	extra []string
	// chart is what upgrade installs; dbChart when empty.
	chart string
}

var dbSet = testcluster.StatefulSetOptions{Name: "db", Replicas: 2, Templates: []string{"data"}, Capacity: "1Gi"}

func installDB(t *testing.T, version testcluster.HelmVersion, expandable bool, values ...string) *dbRelease {
	t.Helper()
	c := testcluster.Get(t)
	d := &dbRelease{helmRun: newHelmRun(t, c, version), c: c, helm: version, dir: t.TempDir()}
	d.class = c.CreateStorageClass(t, testcluster.StorageClassOptions{AllowVolumeExpansion: expandable}).Name
	opts := dbSet
	opts.StorageClassName = d.class
	c.CreateStatefulSetVolumes(t, d.ns, opts)
	d.MustRun(append([]string{"install", "db", dbChart, "-n", d.ns, "--set", "persistence.storageClass=" + d.class}, values...)...)
	d.claims = c.WaitForStatefulSetClaims(t, d.ns, opts)
	d.set = d.getSet()
	d.pods = waitForPodsControlledBy(t, c, d.ns, []string{"db-0", "db-1"}, d.set.UID)
	return d
}

// upgrade runs pvc-guard upgrade db (or helm pvc-guard upgrade db) in d.dir
// with the chart's class and args.
func (d *dbRelease) upgrade(args ...string) testcluster.Result {
	d.t.Helper()
	chart, err := filepath.Abs(cmp.Or(d.chart, dbChart))
	if err != nil {
		d.t.Fatal(err)
	}
	args = append(append([]string{"upgrade", "db", chart, "-n", d.ns, "--set", "persistence.storageClass=" + d.class}, d.extra...), args...)
	cmd := exec.CommandContext(d.t.Context(), pvcGuardBinary(d.t), args...)
	if d.plugin {
		cmd = exec.CommandContext(d.t.Context(), d.Bin, append([]string{"pvc-guard"}, args...)...)
	}
	cmd.Env = append(d.Env, "HELM_BIN="+d.Bin)
	cmd.Dir = d.dir
	start := time.Now()
	res := runCommand(cmd)
	d.t.Logf("$ pvc-guard %s (%v, %.1fs)\n%s%s", strings.Join(args, " "), res.Err, time.Since(start).Seconds(), res.Stdout, res.Stderr)
	return res
}

func (d *dbRelease) getSet() *appsv1.StatefulSet {
	d.t.Helper()
	set, err := d.c.Client.AppsV1().StatefulSets(d.ns).Get(d.t.Context(), "db", metav1.GetOptions{})
	if err != nil {
		d.t.Fatalf("reading the StatefulSet: %v", err)
	}
	return set
}

// assertClaims checks that the set's claims are the same claims, bound to
// the same volumes, requesting size.
func (d *dbRelease) assertClaims(size string) {
	d.t.Helper()
	for _, want := range d.claims {
		assertUnchanged(d.t, d.c.Client, want)
		live, err := d.c.Client.CoreV1().PersistentVolumeClaims(d.ns).Get(d.t.Context(), want.Name, metav1.GetOptions{})
		if err != nil {
			d.t.Fatal(err)
		}
		if got := live.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse(size)) != 0 {
			d.t.Errorf("claim %s requests %s, want %s", want.Name, got.String(), size)
		}
	}
}

// assertSet checks the set's template size and that it controls the
// original pods.
func (d *dbRelease) assertSet(size string) *appsv1.StatefulSet {
	d.t.Helper()
	set := d.getSet()
	if got := set.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse(size)) != 0 {
		d.t.Errorf("the set's template requests %s, want %s", got.String(), size)
	}
	if pods := waitForPodsControlledBy(d.t, d.c, d.ns, []string{"db-0", "db-1"}, set.UID); !maps.Equal(pods, d.pods) {
		d.t.Errorf("the set controls pods %v, want the original %v", pods, d.pods)
	}
	return set
}

// assertNothingChanged checks that the set and the claims are as the
// install left them and that the release has revisions revisions. The
// objects are compared without their status (nor the resourceVersion and
// managedFields that any status write moves): pvc-guard never writes status,
// while controllers go on writing it after the install, at their own pace
// (the statefulset controller counts the set's pods; since Kubernetes 1.37,
// where PersistentVolumeClaimUnusedSinceTime is beta, the pvc-protection
// controller adds an Unused condition to every bound claim and flips it as
// pods come and go).
func (d *dbRelease) assertNothingChanged(revisions int) {
	d.t.Helper()
	set := d.getSet()
	assertSameIgnoringStatus(d.t, "the set", d.set, set)
	for _, want := range d.claims {
		live, err := d.c.Client.CoreV1().PersistentVolumeClaims(d.ns).Get(d.t.Context(), want.Name, metav1.GetOptions{})
		if err != nil {
			d.t.Fatal(err)
		}
		assertSameIgnoringStatus(d.t, "claim "+want.Name, want, live)
	}
	if got := len(d.history("db")); got != revisions {
		d.t.Errorf("%d revisions, want %d", got, revisions)
	}
	if files, _ := os.ReadDir(d.dir); len(files) > 0 {
		d.t.Errorf("a refused or plan-only run saved %v", files)
	}
}

// assertSameIgnoringStatus fails t when live differs from want in anything
// but status, resourceVersion and managedFields (see assertNothingChanged).
func assertSameIgnoringStatus(t *testing.T, what string, want, live runtime.Object) {
	t.Helper()
	a, b := withoutStatus(t, want), withoutStatus(t, live)
	if !equality.Semantic.DeepEqual(a, b) {
		t.Errorf("%s changed (-was +now):\n%s", what, diff.Diff(a, b))
	}
}

// digestWithoutStatus is a short digest of obj without status,
// resourceVersion and managedFields.
func digestWithoutStatus(t *testing.T, obj runtime.Object) string {
	t.Helper()
	data, err := json.Marshal(withoutStatus(t, obj))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

func withoutStatus(t *testing.T, obj runtime.Object) map[string]any {
	t.Helper()
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	delete(u, "status")
	unstructured.RemoveNestedField(u, "metadata", "resourceVersion")
	unstructured.RemoveNestedField(u, "metadata", "managedFields")
	return u
}

func assertStderr(t *testing.T, res testcluster.Result, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
}

var helms = []testcluster.HelmVersion{testcluster.Helm3, testcluster.Helm4}

// TestExpandVolumes is issue 12 acceptance 1 and 5: the template grows from
// 1Gi to 2Gi; both claims grow with the same UIDs, the new set adopts the
// same pods, the release has a deployed revision; a later rollback to the
// smaller revision keeps the grown claims and template. Directly and
// through the CLI plugin.
func TestExpandVolumes(t *testing.T) {
	for _, tc := range []struct {
		helm   testcluster.HelmVersion
		plugin bool
	}{{testcluster.Helm3, false}, {testcluster.Helm4, false}, {testcluster.Helm3, true}, {testcluster.Helm4, true}} {
		name := string(tc.helm)
		if tc.plugin {
			name += " pvc-guard plugin"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := installDB(t, tc.helm, true)
			if d.plugin = tc.plugin; tc.plugin {
				d.MustRun("plugin", "install", repoRoot)
			}
			res := d.upgrade("--set", "persistence.size=2Gi", "--expand-volumes")
			if res.Err != nil {
				t.Fatalf("pvc-guard upgrade --expand-volumes: %v", res.Err)
			}
			assertStderr(t, res, "expand-volumes: 1/5 plan", "claim data-db-0: grow 1Gi -> 2Gi", "claim data-db-1: grow 1Gi -> 2Gi",
				"3/5 saved StatefulSet "+d.ns+"/db to "+d.dir, "restore by hand: kubectl create -f "+d.dir,
				"3/5 deleted StatefulSet "+d.ns+"/db with orphan propagation", "5/5 StatefulSet "+d.ns+"/db owns its pods again")
			d.assertClaims("2Gi")
			if set := d.assertSet("2Gi"); set.UID == d.set.UID {
				t.Error("the set has its old UID: it was not re-created")
			}
			revs := d.history("db")
			if last := revs[len(revs)-1]; last.Revision != 2 || last.Status != "deployed" {
				t.Errorf("latest revision %+v, want 2 deployed", last)
			}

			rollback := exec.CommandContext(t.Context(), pvcGuardBinary(t), "rollback", "db", "1", "-n", d.ns)
			rollback.Env = append(d.Env, "HELM_BIN="+d.Bin)
			if res := runCommand(rollback); res.Err != nil {
				t.Fatalf("pvc-guard rollback db 1: %v\n%s%s", res.Err, res.Stdout, res.Stderr)
			}
			d.assertClaims("2Gi")
			d.assertSet("2Gi")
		})
	}
}

// TestExpandVolumesRefuses is issue 12 acceptance 2 and 6: a class without
// allowVolumeExpansion, an unbound claim of the set beyond its replicas, a
// retention policy that deletes claims with the set, another immutable
// field that changes: refused before any change. And acceptance 4: the plan-only form changes nothing.
func TestExpandVolumesRefuses(t *testing.T) {
	tests := []struct {
		name       string
		expandable bool
		values     []string
		setup      func(t *testing.T, d *dbRelease)
		flag       string
		want       string
	}{
		{name: "class without expansion", want: "does not set allowVolumeExpansion: true"},
		{name: "unbound claim", expandable: true, setup: pendingClaim, want: "claim NS/data-db-2: it is Pending, not Bound"},
		{name: "retention policy deletes claims", expandable: true, values: []string{"--set", "persistentVolumeClaimRetentionPolicy.whenDeleted=Delete"},
			want: "persistentVolumeClaimRetentionPolicy.whenDeleted is Delete"},
		{name: "another immutable field changes", expandable: true, values: nil, flag: "", want: "the upgrade has conflicts that growing volumes does not resolve",
			setup: func(t *testing.T, d *dbRelease) { d.extra = []string{"--set", "podManagementPolicy=OrderedReady"} }},
		{name: "plan only", expandable: true, flag: "--expand-volumes-plan", want: "claim data-db-1: grow 1Gi -> 2Gi"},
	}
	for _, version := range helms {
		for _, tt := range tests {
			t.Run(string(version)+" "+tt.name, func(t *testing.T) {
				t.Parallel()
				d := installDB(t, version, tt.expandable, tt.values...)
				if tt.setup != nil {
					tt.setup(t, d)
				}
				flag := tt.flag
				if flag == "" {
					flag = "--expand-volumes"
				}
				res := d.upgrade(append(append([]string{}, tt.values...), "--set", "persistence.size=2Gi", flag)...)
				if (res.Err == nil) != (tt.flag != "") {
					t.Errorf("exit: %v", res.Err)
				}
				assertStderr(t, res, strings.ReplaceAll(tt.want, "NS", d.ns))
				if tt.flag == "" {
					assertStderr(t, res, "nothing was changed")
				}
				d.assertNothingChanged(1)
			})
		}
	}
}

// pendingClaim adds data-db-2, a claim of the set's template beyond its
// replicas that no volume binds.
func pendingClaim(t *testing.T, d *dbRelease) {
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data-db-2"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: &d.class,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	if _, err := d.c.Client.CoreV1().PersistentVolumeClaims(d.ns).Create(t.Context(), claim, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestExpandVolumesHelmFails is issue 12 acceptance 3: Helm fails after the
// orphan delete and before it creates the set (the chart's config map has
// a name the API server refuses, and Helm creates config maps first): the
// saved set is created again and owns its pods; the claims stay grown.
// With --atomic the release is then rolled back; the set's OnDelete update
// strategy lets Helm's legacy wait (Helm 4: --wait=legacy) pass without a
// kubelet, which would never make the pods ready.
func TestExpandVolumesHelmFails(t *testing.T) {
	tests := []struct {
		name   string
		helm   testcluster.HelmVersion
		flags  []string // for the install and the upgrade
		atomic bool
	}{
		{"helm3", testcluster.Helm3, nil, false},
		{"helm3 --atomic", testcluster.Helm3, nil, true},
		{"helm4", testcluster.Helm4, nil, false},
		{"helm4 --atomic", testcluster.Helm4, []string{"--wait=legacy"}, true},
		// The saved set is created as Helm's client-side update made it.
		{"helm4 client-side apply --atomic", testcluster.Helm4, []string{"--server-side=false", "--wait=legacy"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			flags := append([]string{"--set", "updateStrategy.type=OnDelete"}, tt.flags...)
			d := installDB(t, tt.helm, true, flags...)
			args := append(flags, "--set", "persistence.size=2Gi", "--set", "config.invalidName=true", "--expand-volumes")
			if tt.atomic {
				args = append(args, "--atomic", "--timeout", "30s")
			}
			res := d.upgrade(args...)
			if res.Err == nil {
				t.Fatal("the upgrade succeeded; its config map is invalid")
			}
			assertStderr(t, res, "the upgrade failed before Helm created StatefulSet "+d.ns+"/db; creating the saved set from "+d.dir,
				"5/5 StatefulSet "+d.ns+"/db owns its pods again")
			if tt.atomic {
				assertStderr(t, res, "has been rolled back to revision 1 by pvc-guard rollback")
			}
			d.assertClaims("2Gi")
			d.assertSet("1Gi")
		})
	}
}

// TestExpandVolumesHelmFailsAfterTheSet is issue 12 step 5's other branch:
// Helm creates the new set, then fails (its wait for pods that never become
// ready times out): the new set is kept, owns the pods, and Helm's failure
// is reported.
func TestExpandVolumesHelmFailsAfterTheSet(t *testing.T) {
	for _, version := range helms {
		t.Run(string(version), func(t *testing.T) {
			t.Parallel()
			d := installDB(t, version, true)
			res := d.upgrade("--set", "persistence.size=2Gi", "--expand-volumes", "--wait", "--timeout", "5s")
			if res.Err == nil {
				t.Fatal("the upgrade succeeded; its pods never become ready")
			}
			assertStderr(t, res, "5/5 StatefulSet "+d.ns+"/db exists again (created by Helm)", "5/5 StatefulSet "+d.ns+"/db owns its pods again", "helm upgrade: exit status 1")
			d.assertClaims("2Gi")
			d.assertSet("2Gi")
			if revs := d.history("db"); revs[len(revs)-1].Status != "failed" {
				t.Errorf("latest revision %+v, want Helm's failed one", revs[len(revs)-1])
			}
		})
	}
}
