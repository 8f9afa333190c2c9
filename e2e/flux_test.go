package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/pvc-guard/pvc-guard/flux"
	"github.com/pvc-guard/pvc-guard/internal/testutil/gitopstest"
	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// chartDataClaim is claim "data" as a chart renders it, matching bindClaim's.
const chartDataClaim = `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  resources:
    requests:
      storage: 1Gi
`

// TestFluxPatchesWarnAboutAStalePin is what a stale pin does on the real
// control plane: Flux deletes and re-creates a claim with the patches of
// its first life, the re-created claim names the old volume, whose
// claimRef still holds the old claim's uid, and stays Pending.
// flux-patches, run again with examples/rbac.yaml bound cluster-wide, pins
// it again but warns; bound only in the namespace, it cannot read volumes
// and says that check was skipped. Clearing the volume's claimRef, as the
// warning advises, lets the re-created claim bind.
func TestFluxPatchesWarnAboutAStalePin(t *testing.T) {
	c := testcluster.Get(t)
	ns := c.Namespace(t)
	first := bindClaim(t, c, ns, "data")
	clusterWide, namespaced := fluxReaders(t, c, ns)

	r := fluxPatches(t, clusterWide, ns)
	out := succeeded(t, "pvc-guard flux-patches", nil, r)
	if strings.Contains(r.Stderr, "warning") {
		t.Errorf("warnings for a claim bound to its own volume:\n%s", r.Stderr)
	}
	block := &flux.Block{}
	if err := yaml.Unmarshal([]byte(out), block); err != nil {
		t.Fatalf("flux-patches output: %v\n%s", err, out)
	}

	// What helm-controller does after the claim was deleted: render the
	// chart, apply the stored pins, create the claim.
	claims := c.Client.CoreV1().PersistentVolumeClaims(ns)
	if err := claims.Delete(t.Context(), "data", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the claim to be gone", func(ctx context.Context) (bool, error) {
		_, err := claims.Get(ctx, "data", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	patched, err := gitopstest.PostRenderer{Block: block}.Run(bytes.NewBufferString(chartDataClaim))
	if err != nil {
		t.Fatal(err)
	}
	second := &corev1.PersistentVolumeClaim{}
	if err := yaml.Unmarshal(patched.Bytes(), second); err != nil {
		t.Fatal(err)
	}
	if second, err = claims.Create(t.Context(), second, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if second.Spec.VolumeName != first.Spec.VolumeName {
		t.Fatalf("re-created claim names volume %q, want the stale pin %q", second.Spec.VolumeName, first.Spec.VolumeName)
	}
	time.Sleep(3 * time.Second) // the binder has seen the new claim by now
	if live, err := claims.Get(t.Context(), "data", metav1.GetOptions{}); err != nil || live.Status.Phase != corev1.ClaimPending {
		t.Fatalf("re-created claim: %v, phase %q; want Pending", err, live.Status.Phase)
	}

	r = fluxPatches(t, clusterWide, ns)
	succeeded(t, "pvc-guard flux-patches", nil, r)
	for _, want := range []string{
		"pvc-guard: warning: claim " + ns + "/data is Pending, not Bound",
		"pvc-guard: warning: claim " + ns + "/data (uid " + string(second.UID) + ") is pinned to volume " + first.Spec.VolumeName + ", whose claimRef names uid " + string(first.UID),
	} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("flux-patches' stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
	r = fluxPatches(t, namespaced, ns)
	succeeded(t, "pvc-guard flux-patches, namespaced", nil, r)
	if want := "RBAC forbids get persistentvolumes, so whether each pinned volume still belongs to its claim was not checked"; !strings.Contains(r.Stderr, want) {
		t.Errorf("flux-patches without volume access: stderr lacks %q:\n%s", want, r.Stderr)
	}

	if _, err := c.Client.CoreV1().PersistentVolumes().Patch(t.Context(), first.Spec.VolumeName, types.MergePatchType,
		[]byte(`{"spec":{"claimRef":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	c.WaitForClaimBound(t, ns, "data")
}

// fluxPatches runs flux-patches on chartDataClaim as kubeconfig's user.
func fluxPatches(t *testing.T, kubeconfig, ns string) testcluster.Result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), pvcGuardBinary(t), "flux-patches", "-n", ns, "--kubeconfig", kubeconfig)
	return run(cmd, nil, chartDataClaim)
}

// fluxReaders returns kubeconfigs of two ServiceAccounts granted
// examples/rbac.yaml's ClusterRole (its name made unique to the test): one
// cluster-wide, one by a RoleBinding in ns, which cannot grant volumes.
func fluxReaders(t *testing.T, c *testcluster.Cluster, ns string) (clusterWide, namespaced string) {
	t.Helper()
	ctx, rbac := t.Context(), c.Client.RbacV1()
	role, ok := decodeObjects(t, readExample(t, "../examples", "rbac.yaml"))[0].(*rbacv1.ClusterRole)
	if !ok {
		t.Fatal("examples/rbac.yaml does not start with a ClusterRole")
	}
	role.Name += "-" + ns
	if _, err := rbac.ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rbac.ClusterRoles().Delete(context.Background(), role.Name, metav1.DeleteOptions{}) })
	roleRef := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name}
	subject := func(name string) []rbacv1.Subject {
		return []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: ns}}
	}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "flux-patches-" + ns}, RoleRef: roleRef, Subjects: subject("cluster-wide")}
	if _, err := rbac.ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = rbac.ClusterRoleBindings().Delete(context.Background(), binding.Name, metav1.DeleteOptions{})
	})
	roleBinding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "flux-patches"}, RoleRef: roleRef, Subjects: subject("namespaced")}
	if _, err := rbac.RoleBindings(ns).Create(ctx, roleBinding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return serviceAccountKubeconfig(t, c, ns, "cluster-wide"), serviceAccountKubeconfig(t, c, ns, "namespaced")
}

// serviceAccountKubeconfig creates ServiceAccount ns/name and returns a
// kubeconfig that authenticates as it.
func serviceAccountKubeconfig(t *testing.T, c *testcluster.Cluster, ns, name string) string {
	t.Helper()
	if _, err := c.Client.CoreV1().ServiceAccounts(ns).Create(t.Context(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating ServiceAccount: %v", err)
	}
	return tokenKubeconfig(t, c, ns, name)
}

// tokenKubeconfig returns a kubeconfig that authenticates as ServiceAccount
// ns/name with a fresh token.
func tokenKubeconfig(t *testing.T, c *testcluster.Cluster, ns, name string) string {
	t.Helper()
	token, err := c.Client.CoreV1().ServiceAccounts(ns).CreateToken(t.Context(), name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("requesting a token: %v", err)
	}
	config := clientcmdapi.NewConfig()
	config.Clusters["c"] = &clientcmdapi.Cluster{Server: c.Config.Host, CertificateAuthorityData: c.Config.CAData}
	config.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token.Status.Token}
	config.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: name, Namespace: ns}
	config.CurrentContext = "c"
	path := filepath.Join(t.TempDir(), name+".kubeconfig")
	if err := clientcmd.WriteToFile(*config, path); err != nil {
		t.Fatalf("writing kubeconfig: %v", err)
	}
	return path
}

// waitFor polls done until it holds, for as long as a claim may take to bind.
func waitFor(t *testing.T, what string, done wait.ConditionWithContextFunc) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, testcluster.BindTimeout, true, done); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// TestFluxPinsJobProposesTheChange runs examples/flux/update-job.yaml's
// script as its CronJob would, with the job's RBAC objects created in the
// test's namespace and only their ServiceAccount's token, against a git
// repository holding examples/flux with stale pins: the job pushes the
// current pins to the branch pvc-guard/pins, and flux-patches reads
// everything it needs, volumes included, without a warning.
func TestFluxPinsJobProposesTheChange(t *testing.T) {
	h := newHistory(t, historyOptions{helm: testcluster.Helm3})
	job := applyPinsJob(t, h)
	script := job.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range script.Env {
		env[e.Name] = e.Value
	}

	bare, home, secrets := filepath.Join(t.TempDir(), "fleet.git"), t.TempDir(), t.TempDir()
	git(t, "", "init", "--quiet", "--bare", "--initial-branch", env["BASE_BRANCH"], bare)
	work := filepath.Join(t.TempDir(), "work")
	git(t, "", "clone", "--quiet", bare, work)
	for _, file := range []string{"kustomization.yaml", "helmrelease.yaml", "pvc-guard-patch.yaml", "update-patches.sh"} {
		path := filepath.Join(work, env["DIR"], file)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		writeOutput(t, path, readExample(t, fluxExample, file))
	}
	git(t, work, "add", ".")
	git(t, work, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "--quiet", "-m", "fleet")
	git(t, work, "push", "--quiet", "origin", "HEAD:"+env["BASE_BRANCH"])
	writeOutput(t, filepath.Join(secrets, "identity"), "not a key: the file:// remote needs none\n")

	inPod := strings.NewReplacer("/etc/pvc-guard-git", secrets)
	overrides := map[string]string{"REPO": "file://" + bare, "RELEASE": h.release, "RELEASE_NAMESPACE": h.ns, "HOME": home}
	vars := []string{
		"PATH=" + tools(t, map[string]string{"pvc-guard": pvcGuardBinary(t)}) + ":/usr/bin:/bin",
		"KUBECONFIG=" + tokenKubeconfig(t, h.c, h.ns, job.Spec.JobTemplate.Spec.Template.Spec.ServiceAccountName),
	}
	for name, value := range env {
		if o, ok := overrides[name]; ok {
			value = o
		}
		vars = append(vars, name+"="+inPod.Replace(value))
	}
	args := slices.Clone(script.Command[1:])
	for _, arg := range script.Args {
		args = append(args, inPod.Replace(arg))
	}
	cmd := exec.Command(script.Command[0], args...)
	r := run(cmd, vars, "")
	out := succeeded(t, "the pins job", nil, r)
	if !strings.Contains(out, "pushed new pins to pvc-guard/pins") || strings.Contains(r.Stderr, "warning") {
		t.Errorf("the job's output:\n%s\n%s", out, r.Stderr)
	}
	pushed := git(t, "", "--git-dir", bare, "show", "pvc-guard/pins:"+env["DIR"]+"/pvc-guard-patch.yaml")
	if !strings.Contains(pushed, "volumeName: "+h.claim.Spec.VolumeName) || !strings.Contains(pushed, "namespace: "+h.ns) {
		t.Errorf("the pushed pins do not pin the live volume %s:\n%s", h.claim.Spec.VolumeName, pushed)
	}
}

// applyPinsJob creates update-job.yaml's ServiceAccount, Role and bindings
// in h's namespace (cluster-wide names and examples/rbac.yaml's ClusterRole
// made unique to it) and returns its CronJob, not created: nothing runs it.
func applyPinsJob(t *testing.T, h *history) *batchv1.CronJob {
	t.Helper()
	var job *batchv1.CronJob
	for _, obj := range createExampleObjects(t, h.c, h.ns, readExample(t, "../examples", "rbac.yaml")+"\n---\n"+readExample(t, fluxExample, "update-job.yaml")) {
		switch o := obj.(type) {
		case *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding, *corev1.ServiceAccount, *rbacv1.Role, *rbacv1.RoleBinding:
		case *batchv1.CronJob:
			job = o
		default:
			t.Fatalf("unexpected object in update-job.yaml: %T", obj)
		}
	}
	if job == nil {
		t.Fatal("update-job.yaml has no CronJob")
	}
	return job
}

// git runs git in dir and returns its stdout.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	return succeeded(t, "git", args, run(cmd, withEnv(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1"), ""))
}
