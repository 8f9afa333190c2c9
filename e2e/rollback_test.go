package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// TestRollbackGrafanaStory is acceptance 1: where the stock rollback is
// refused, pvc-guard rollback succeeds with the same claim and volume, Helm
// records "Rollback to 1", and the stock CLI carries on afterwards.
func TestRollbackGrafanaStory(t *testing.T) {
	cases := []struct {
		name  string
		helm  testcluster.HelmVersion
		flags []string
	}{
		{"helm3", testcluster.Helm3, nil},
		{"helm4 client-side apply", testcluster.Helm4, []string{"--server-side=false"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHistory(t, historyOptions{helm: tc.helm, flags: tc.flags})

			if r := h.helmRun("rollback", h.release, "1"); r.Err == nil || !strings.Contains(r.Stderr, immutableMessage) {
				t.Fatalf("stock rollback: want %q, got %v\n%s", immutableMessage, r.Err, r.Stderr)
			}
			out := h.pvcGuardOK("rollback", h.release, "1")
			if !strings.Contains(out, "Rollback was a success") {
				t.Errorf("unexpected output: %s", out)
			}
			assertUnchanged(t, h.c.Client, h.claim)
			revs := h.revisions()
			if last := revs[len(revs)-1]; last.Status != "deployed" || last.Description != "Rollback to 1" {
				t.Errorf("last revision = %+v, want deployed \"Rollback to 1\"", last)
			}
			h.helmOK("upgrade", h.release, appChart)
			assertUnchanged(t, h.c.Client, h.claim)
		})
	}
}

// TestRollbackKeepsExpandedSize is acceptance 2: revision 2 grew the claim
// (an expandable class); rolling back to revision 1's smaller size keeps
// the larger request, since a claim never shrinks.
func TestRollbackKeepsExpandedSize(t *testing.T) {
	c := testcluster.Get(t)
	class := c.CreateStorageClass(t, testcluster.StorageClassOptions{AllowVolumeExpansion: true})
	h := newHistory(t, historyOptions{helm: testcluster.Helm3, storageClass: class.Name,
		revision1: []string{"claim.size=1Gi"}, revision2: []string{"claim.size=2Gi"}})

	h.pvcGuardOK("rollback", h.release, "1")
	got := h.liveClaim().Spec.Resources.Requests[corev1.ResourceStorage]
	if want := resource.MustParse("2Gi"); got.Cmp(want) != 0 {
		t.Errorf("storage request after rollback = %s, want %s", got.String(), want.String())
	}
	assertUnchanged(t, h.c.Client, h.claim)
}

// TestRollbackForceReplace is acceptance 3: a rollback by replacement (a PUT
// of the whole object) succeeds because the rewritten claim carries every
// immutable field.
func TestRollbackForceReplace(t *testing.T) {
	for _, flag := range []string{"--force", "--force-replace"} {
		t.Run(flag, func(t *testing.T) {
			t.Parallel()
			h := newHistory(t, historyOptions{helm: testcluster.Helm3})
			if r := h.helmRun("rollback", h.release, "1", "--force"); r.Err == nil {
				t.Fatalf("stock rollback --force succeeded; the test no longer shows the problem")
			}
			h.pvcGuardOK("rollback", h.release, "1", flag)
			assertUnchanged(t, h.c.Client, h.claim)
		})
	}
}

// TestRollbackKeepsServerSideApply is acceptance 4: a Helm 4 server-side
// apply release stays one after pvc-guard rolls it back, and the next helm4
// upgrade still applies server-side.
func TestRollbackKeepsServerSideApply(t *testing.T) {
	h := newHistory(t, historyOptions{helm: testcluster.Helm4})
	h.pvcGuardOK("rollback", h.release, "1")
	if method := h.applyMethod(); method != "ssa" {
		t.Errorf("apply method after rollback = %q, want ssa", method)
	}
	h.helmOK("upgrade", h.release, appChart, "--set", "message=three")
	if method := h.applyMethod(); method != "ssa" {
		t.Errorf("apply method after the next upgrade = %q, want ssa", method)
	}
	assertUnchanged(t, h.c.Client, h.claim)
}

func (h *history) applyMethod() string {
	h.t.Helper()
	var meta struct {
		ApplyMethod string `json:"applyMethod"`
	}
	if err := json.Unmarshal([]byte(h.helm.MustRun("get", "metadata", h.release, "--namespace", h.ns, "-o", "json")), &meta); err != nil {
		h.t.Fatalf("reading metadata: %v", err)
	}
	return meta.ApplyMethod
}

// TestRollbackRunsHooks is acceptance 5: the chart's pre- and post-rollback
// hooks run, as with stock Helm.
func TestRollbackRunsHooks(t *testing.T) {
	h := newHistory(t, historyOptions{helm: testcluster.Helm3, revision1: []string{"hooks=true"}, revision2: []string{"hooks=true"}})
	h.pvcGuardOK("rollback", h.release, "1")
	for _, hook := range []string{"pre-rollback", "post-rollback"} {
		if _, err := h.configMap(h.release + "-" + hook); err != nil {
			t.Errorf("%s hook did not run: %v", hook, err)
		}
	}
}

// TestRollbackWithoutRewriteMatchesHelm is acceptance 6: when nothing needs
// rewriting, pvc-guard's rollback ends exactly where stock Helm's does.
func TestRollbackWithoutRewriteMatchesHelm(t *testing.T) {
	c := testcluster.Get(t)
	outcome := func(rollback func(h *history)) ([]revision, string) {
		ns := c.Namespace(t)
		h := &history{t: t, c: c, ns: ns, helm: c.Helm(t, testcluster.Helm3), release: "app"}
		h.helmOK("install", h.release, appChart, "--set", "claim.enabled=false")
		h.helmOK("upgrade", h.release, appChart, "--set", "claim.enabled=false", "--set", "message=two")
		rollback(h)
		cm, err := h.configMap(h.release + "-settings")
		if err != nil {
			t.Fatal(err)
		}
		return h.revisions(), cm.Data["message"]
	}
	stockRevs, stockMessage := outcome(func(h *history) { h.helmOK("rollback", h.release, "1") })
	ourRevs, ourMessage := outcome(func(h *history) { h.pvcGuardOK("rollback", h.release, "1") })
	if ourMessage != stockMessage || ourMessage != "one" {
		t.Errorf("ConfigMap message: pvc-guard %q, stock %q, want both \"one\"", ourMessage, stockMessage)
	}
	if len(ourRevs) != len(stockRevs) {
		t.Fatalf("history: pvc-guard %+v, stock %+v", ourRevs, stockRevs)
	}
	for i := range ourRevs {
		if ourRevs[i] != stockRevs[i] {
			t.Errorf("revision %d: pvc-guard %+v, stock %+v", i+1, ourRevs[i], stockRevs[i])
		}
	}
}

// TestRollbackDryRunChangesNothing is acceptance 7: --dry-run prints what it
// would apply and writes neither a release record nor a live object.
func TestRollbackDryRunChangesNothing(t *testing.T) {
	h := newHistory(t, historyOptions{helm: testcluster.Helm3})
	before, records := h.liveClaim(), len(h.revisions())
	settings, err := h.configMap(h.release + "-settings")
	if err != nil {
		t.Fatal(err)
	}

	out := h.pvcGuardOK("rollback", h.release, "1", "--dry-run")
	for _, want := range []string{"Nothing was changed", "spec.volumeName", "volumeName: " + h.claim.Spec.VolumeName} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, out)
		}
	}
	if got := len(h.revisions()); got != records {
		t.Errorf("dry run wrote a release record: %d revisions, want %d", got, records)
	}
	if after := h.liveClaim(); after.ResourceVersion != before.ResourceVersion {
		t.Errorf("dry run changed the claim: resourceVersion %s -> %s", before.ResourceVersion, after.ResourceVersion)
	}
	if after, err := h.configMap(h.release + "-settings"); err != nil || after.ResourceVersion != settings.ResourceVersion {
		t.Errorf("dry run changed the ConfigMap (%v)", err)
	}
}

// TestRollbackConflictIsRefused is acceptance 8: when the target revision
// changes an immutable field of the live claim (here the claim was migrated
// to another class by hand), --on-conflict=fail refuses before anything is
// applied, names the field, and leaves the history alone.
func TestRollbackConflictIsRefused(t *testing.T) {
	h := newHistory(t, historyOptions{helm: testcluster.Helm3})
	migrated := h.migrateClaim("migrated")
	records := h.revisions()

	r := h.pvcGuard("rollback", h.release, "1")
	if r.Err == nil {
		t.Fatal("rollback succeeded, want it refused")
	}
	for _, want := range []string{"spec.storageClassName", `chart wants "manual", live is "migrated"`, "--on-conflict=keep-live"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, r.Stderr)
		}
	}
	if got := h.revisions(); len(got) != len(records) {
		t.Errorf("history changed: %+v -> %+v", records, got)
	}
	assertUnchanged(t, h.c.Client, migrated)
}

// migrateClaim replaces the release's claim with one of another storage
// class, as an operator moving data to a new class would, keeping Helm's
// ownership metadata so the release still owns it.
func (h *history) migrateClaim(class string) *corev1.PersistentVolumeClaim {
	h.t.Helper()
	claims := h.c.Client.CoreV1().PersistentVolumeClaims(h.ns)
	old := h.liveClaim()
	if err := claims.Delete(h.t.Context(), old.Name, metav1.DeleteOptions{}); err != nil {
		h.t.Fatalf("deleting claim: %v", err)
	}
	waitGone := func(ctx context.Context) (bool, error) {
		_, err := claims.Get(ctx, old.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}
	if err := wait.PollUntilContextTimeout(h.t.Context(), 100*time.Millisecond, time.Minute, true, waitGone); err != nil {
		h.t.Fatalf("waiting for the old claim to be deleted: %v", err)
	}
	h.c.CreateHostPathPV(h.t, testcluster.VolumeOptions{StorageClassName: class, ClaimNamespace: h.ns, ClaimName: old.Name})
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: old.Name, Labels: old.Labels, Annotations: map[string]string{
			"meta.helm.sh/release-name":      old.Annotations["meta.helm.sh/release-name"],
			"meta.helm.sh/release-namespace": old.Annotations["meta.helm.sh/release-namespace"],
		}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      old.Spec.AccessModes,
			StorageClassName: &class,
			Resources:        old.Spec.Resources,
		},
	}
	if _, err := claims.Create(h.t.Context(), claim, metav1.CreateOptions{}); err != nil {
		h.t.Fatalf("creating migrated claim: %v", err)
	}
	return h.c.WaitForClaimBound(h.t, h.ns, old.Name)
}

// TestHelmWrapper runs wrapper/helm in place of helm: rollback goes through
// pvc-guard, every other command reaches the real helm untouched.
func TestHelmWrapper(t *testing.T) {
	h := newHistory(t, historyOptions{helm: testcluster.Helm3})
	wrapper := func(args ...string) testcluster.Result {
		cmd := exec.CommandContext(t.Context(), "../wrapper/helm", args...)
		cmd.Env = append(h.helm.Env, "PVC_GUARD_HELM="+h.helm.Bin, "PVC_GUARD="+pvcGuardBinary(t))
		return runCommand(cmd)
	}
	if r := wrapper("--namespace", h.ns, "rollback", h.release, "1"); r.Err != nil || !strings.Contains(r.Stdout, "Rollback was a success") {
		t.Fatalf("wrapped rollback: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
	assertUnchanged(t, h.c.Client, h.claim)
	// Helm's global flags, before and after the subcommand, as the real helm
	// takes them for rollback (--debug was "unknown flag" once).
	globals := wrapper("--debug", "--kube-apiserver", h.c.Config.Host, "-n", h.ns, "rollback", "--burst-limit", "50", h.release, "2",
		"--qps=20", "--kube-insecure-skip-tls-verify", "--registry-config", filepath.Join(t.TempDir(), "registry.json"))
	if globals.Err != nil || !strings.Contains(globals.Stdout, "Rollback was a success") {
		t.Fatalf("wrapped rollback with global flags: %v\n%s%s", globals.Err, globals.Stdout, globals.Stderr)
	}
	if r := wrapper("history", h.release, "-n", h.ns); r.Err != nil || !strings.Contains(r.Stdout, "Rollback to 1") || !strings.Contains(r.Stdout, "Rollback to 2") {
		t.Errorf("wrapped history: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
	if r := wrapper("version", "--template", "{{.Version}}"); r.Err != nil || !strings.HasPrefix(r.Stdout, "v3.") {
		t.Errorf("wrapped version = %q (%v), want the real helm3's", r.Stdout, r.Err)
	}
}

// TestRollbackErrors: each failure says what went wrong and changes nothing.
func TestRollbackErrors(t *testing.T) {
	h := newHistory(t, historyOptions{helm: testcluster.Helm3})
	records := len(h.revisions())
	unreachable := unreachableKubeconfig(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown release", []string{"rollback", "nope", "1"}, `release "nope"`},
		{"unknown revision", []string{"rollback", h.release, "9"}, "has no revision 9"},
		{"cluster unreachable", []string{"rollback", h.release, "1", "--kubeconfig", unreachable}, "cannot reach the cluster"},
		{"RBAC forbidden", []string{"rollback", h.release, "1", "--kubeconfig", h.unprivilegedKubeconfig()}, "forbidden"},
		{"bad revision", []string{"rollback", h.release, "one"}, "revision must be a number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.pvcGuard(tc.args...)
			if r.Err == nil || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("want an error mentioning %q, got %v\n%s", tc.want, r.Err, r.Stderr)
			}
			if r.Stdout != "" {
				t.Errorf("stdout must be empty on error, got %q", r.Stdout)
			}
		})
	}
	if got := len(h.revisions()); got != records {
		t.Errorf("a failed rollback wrote release records: %d -> %d", records, got)
	}
	assertUnchanged(t, h.c.Client, h.claim)
}

// unreachableKubeconfig writes a kubeconfig naming a port nothing listens on.
func unreachableKubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "unreachable.kubeconfig")
	if err := os.WriteFile(path, []byte(unreachableConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const unreachableConfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`

// unprivilegedKubeconfig returns a kubeconfig for a ServiceAccount that no
// RBAC rule grants anything.
func (h *history) unprivilegedKubeconfig() string {
	h.t.Helper()
	return serviceAccountKubeconfig(h.t, h.c, h.ns, "nobody")
}
