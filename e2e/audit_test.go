package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pvc-guard/pvc-guard/audit"
	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// auditCase is a release history and the rollback to revision 1 that the
// audit predicts, then stock Helm and pvc-guard perform.
type auditCase struct {
	name     string
	scenario func(t *testing.T) *history
	flags    []string // of audit and of both rollbacks, e.g. --force
	// What the audit must predict, so that a test of an audit that says
	// "ok" to everything fails.
	wantStockOK bool
	wantFields  []string // among the stock verdict's fields
	wantMethod  audit.Method
}

func TestAuditPredictsRollbacks(t *testing.T) {
	cases := []auditCase{
		{name: "lookup adds volumeName (helm3)", scenario: func(t *testing.T) *history {
			return newHistory(t, historyOptions{helm: testcluster.Helm3})
		}, wantFields: []string{"spec.volumeName"}, wantMethod: audit.ClientSide},
		{name: "lookup adds volumeName (helm3, configmap driver)", scenario: func(t *testing.T) *history {
			return newHistory(t, historyOptions{helm: testcluster.Helm3, env: []string{"HELM_DRIVER=configmap"}})
		}, wantFields: []string{"spec.volumeName"}, wantMethod: audit.ClientSide},
		{name: "shrink after a manual expansion (helm3)", scenario: expandedHistory,
			wantFields: []string{"spec.resources.requests.storage", "spec.volumeName"}, wantMethod: audit.ClientSide},
		{name: "--force (helm3)", scenario: func(t *testing.T) *history {
			return newHistory(t, historyOptions{helm: testcluster.Helm3})
		}, flags: []string{"--force"}, wantFields: []string{"spec.volumeName"}, wantMethod: audit.Replace},
		// Server-side apply leaves volumeName alone when the applied
		// configuration drops it: the binder co-owns it.
		{name: "helm4 server-side apply", scenario: func(t *testing.T) *history {
			return newHistory(t, historyOptions{helm: testcluster.Helm4})
		}, wantStockOK: true, wantMethod: audit.ServerSide},
		{name: "needs nothing (helm4 client-side)", scenario: claimlessHistory, wantStockOK: true, wantMethod: audit.ClientSide},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.run)
	}
}

// run records the audit's prediction for the rollback to revision 1, checks
// it is the one the case wants, then performs the real stock rollback and,
// on a fresh copy of the scenario, the real pvc-guard rollback, and asserts
// that both went as predicted.
func (tc auditCase) run(t *testing.T) {
	t.Parallel()
	// A failed stock rollback changes state (a failed record, the objects
	// it did patch): pvc-guard rolls back a fresh copy.
	stockCopy, guardCopy := tc.scenario(t), tc.scenario(t)

	before := snapshotNamespace(t, stockCopy)
	predicted, elapsed := stockCopy.audit(t, tc.flags...)
	if after := snapshotNamespace(t, stockCopy); !slices.Equal(before, after) {
		t.Errorf("the audit changed the namespace:\nbefore %v\nafter  %v", before, after)
	}
	t.Logf("audit of 1 release with 2 revisions: %s", elapsed)
	stock := rollbackTo1(t, predicted)
	if stock.ApplyMethod != string(tc.wantMethod) || stock.Stock.Basis != audit.DryRun || stock.PvcGuard.Basis == audit.Rules {
		t.Errorf("prediction = %+v, want apply method %s judged by dry runs", stock, tc.wantMethod)
	}
	if stock.Stock.OK != tc.wantStockOK || !containsAll(stock.Stock.Fields, tc.wantFields) || !stock.PvcGuard.OK {
		t.Errorf("prediction = %+v, want stock ok=%v on %v, pvc-guard ok", stock, tc.wantStockOK, tc.wantFields)
	}

	r := stockCopy.helmRun(append([]string{"rollback", stockCopy.release, "1"}, tc.flags...)...)
	if (r.Err == nil) != stock.Stock.OK {
		t.Errorf("stock rollback: predicted ok=%v (%s), got %v\n%s", stock.Stock.OK, stock.Stock.Error, r.Err, r.Stderr)
	}
	guard := rollbackTo1(t, first(guardCopy.audit(t, tc.flags...)))
	r = guardCopy.pvcGuard(append([]string{"rollback", guardCopy.release, "1"}, tc.flags...)...)
	if (r.Err == nil) != guard.PvcGuard.OK {
		t.Errorf("pvc-guard rollback: predicted ok=%v (%s), got %v\n%s", guard.PvcGuard.OK, guard.PvcGuard.Error, r.Err, r.Stderr)
	}
}

// TestAuditPredictsDrift: a claim grown by hand after the current revision;
// the audit predicts the next plain upgrade per apply method, then the real
// helm performs it.
func TestAuditPredictsDrift(t *testing.T) {
	cases := []struct {
		helm   testcluster.HelmVersion
		method audit.Method // the one the upgrade uses
	}{
		{testcluster.Helm3, audit.ClientSide},
		{testcluster.Helm4, audit.ServerSide},
	}
	for _, tc := range cases {
		t.Run(string(tc.method), func(t *testing.T) {
			t.Parallel()
			c := testcluster.Get(t)
			class := c.CreateStorageClass(t, testcluster.StorageClassOptions{AllowVolumeExpansion: true})
			h := &history{t: t, c: c, ns: c.Namespace(t), helm: c.Helm(t, tc.helm), release: "app"}
			c.CreateHostPathPV(t, testcluster.VolumeOptions{StorageClassName: class.Name, ClaimNamespace: h.ns, ClaimName: h.claimName()})
			values := []string{"--set", "claim.storageClassName=" + class.Name}
			h.helmOK(append([]string{"install", h.release, appChart}, values...)...)
			h.claim = c.WaitForClaimBound(t, h.ns, h.claimName())
			expandByHand(t, h, "3Gi")

			predicted, _ := h.audit(t)
			var drift *audit.Check
			for i, d := range predicted.Releases[0].Drift {
				if d.ApplyMethod == string(tc.method) {
					drift = &predicted.Releases[0].Drift[i]
				}
			}
			if drift == nil || drift.Stock.Basis != audit.DryRun || !drift.PvcGuard.OK {
				t.Fatalf("drift = %+v, want a %s prediction by dry run, ok through pvc-guard", predicted.Releases[0].Drift, tc.method)
			}
			t.Logf("predicted %s upgrade: ok=%v fields=%v %s", tc.method, drift.Stock.OK, drift.Stock.Fields, drift.Stock.Error)
			r := h.helmRun(append([]string{"upgrade", h.release, appChart}, values...)...)
			if (r.Err == nil) != drift.Stock.OK {
				t.Errorf("plain upgrade: predicted ok=%v (%s), got %v\n%s", drift.Stock.OK, drift.Stock.Error, r.Err, r.Stderr)
			}
		})
	}
}

// TestAuditManyReleases times the audit of a namespace with several
// releases of two revisions each.
func TestAuditManyReleases(t *testing.T) {
	const releases = 10
	c := testcluster.Get(t)
	h := &history{t: t, c: c, ns: c.Namespace(t), helm: c.Helm(t, testcluster.Helm3)}
	for i := range releases {
		name := fmt.Sprintf("app%d", i)
		h.helmOK("install", name, appChart, "--set", "claim.enabled=false")
		h.helmOK("upgrade", name, appChart, "--set", "claim.enabled=false", "--set", "message=two")
	}
	start := time.Now()
	r := h.pvcGuard("audit", "-o", "json")
	elapsed := time.Since(start)
	var result audit.Result
	if err := json.Unmarshal([]byte(r.Stdout), &result); err != nil || r.Err != nil {
		t.Fatalf("pvc-guard audit: %v %v\n%s", r.Err, err, r.Stderr)
	}
	if len(result.Releases) != releases {
		t.Errorf("audited %d releases, want %d", len(result.Releases), releases)
	}
	t.Logf("audit of %d releases with 2 revisions each: %s", releases, elapsed)
}

func expandByHand(t *testing.T, h *history, size string) {
	t.Helper()
	patch := []byte(`{"spec":{"resources":{"requests":{"storage":"` + size + `"}}}}`)
	if _, err := h.c.Client.CoreV1().PersistentVolumeClaims(h.ns).Patch(t.Context(), h.claimName(), types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("expanding the claim by hand: %v", err)
	}
}

// TestAuditUnreachableWebhookIsUnknown: a webhook the API server cannot
// call makes the verdicts of the requests it covers unknown, not failures.
// (Validating webhooks run after validation: an immutable field is refused
// before any webhook is asked, so the request here is a ConfigMap's.)
func TestAuditUnreachableWebhookIsUnknown(t *testing.T) {
	h := claimlessHistory(t)
	fail, none := admissionregistrationv1.Fail, admissionregistrationv1.SideEffectClassNone
	url := "https://127.0.0.1:1/validate"
	webhook := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: h.ns},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "unreachable.pvc-guard.test", ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url},
			Rules: []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": h.ns}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	webhooks := h.c.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	if _, err := webhooks.Create(t.Context(), webhook, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = webhooks.Delete(context.Background(), webhook.Name, metav1.DeleteOptions{}) })

	predicted := first(h.audit(t))
	got := rollbackTo1(t, predicted)
	if got.Stock.OK || !got.Stock.Unknown || !strings.Contains(got.Stock.Error, "unreachable.pvc-guard.test") || got.PvcGuard.OK || !got.PvcGuard.Unknown {
		t.Errorf("prediction = %+v, want unknown for stock and pvc-guard", got)
	}
	if code := predicted.ExitCode(); code != audit.ExitUncovered {
		t.Errorf("exit code %d, want %d", code, audit.ExitUncovered)
	}
}

// TestAuditWithReadOnlyRBAC is acceptance 3: without the write verbs dry
// runs need, the prediction comes from pvc-guard's rules, marked as such.
func TestAuditWithReadOnlyRBAC(t *testing.T) {
	h := newHistory(t, historyOptions{helm: testcluster.Helm3})
	kubeconfig := h.readOnlyKubeconfig()
	predicted, _ := h.audit(t, "--kubeconfig", kubeconfig)
	got := rollbackTo1(t, predicted)
	if got.Stock.Basis != audit.Rules || got.Stock.Note == "" || got.Stock.OK || !slices.Contains(got.Stock.Fields, "spec.volumeName") {
		t.Errorf("stock prediction = %+v, want a rule-based refusal on spec.volumeName with a note", got.Stock)
	}
	table := h.pvcGuard("audit", h.release, "--kubeconfig", kubeconfig)
	t.Logf("pvc-guard audit (exit %d):\n%s%s", exitCode(table.Err), table.Stdout, table.Stderr)
	if !strings.Contains(table.Stdout, "rules") || exitCode(table.Err) != audit.ExitCovered {
		t.Errorf("the table does not mark rule-based predictions, or exit code %d is not %d", exitCode(table.Err), audit.ExitCovered)
	}
	// pvc-guard's rewritten claim equals the live one: nothing to judge.
	if got.PvcGuard.Basis != audit.Unchanged || !got.PvcGuard.OK {
		t.Errorf("pvc-guard prediction = %+v, want ok with nothing to send", got.PvcGuard)
	}
}

// claimlessHistory is a Helm 4 client-side release whose two revisions
// differ in a ConfigMap only.
func claimlessHistory(t *testing.T) *history {
	c := testcluster.Get(t)
	h := &history{t: t, c: c, ns: c.Namespace(t), helm: c.Helm(t, testcluster.Helm4), flags: []string{"--server-side=false"}, release: "app"}
	h.helmOK("install", h.release, appChart, "--set", "claim.enabled=false")
	h.helmOK("upgrade", h.release, appChart, "--set", "claim.enabled=false", "--set", "message=two")
	return h
}

// expandedHistory: revision 1 installs a 1Gi claim of an expandable class,
// someone grows it to 3Gi by hand, and revision 2 upgrades through
// pvc-guard's post-renderer, which keeps 3Gi in the stored manifest.
func expandedHistory(t *testing.T) *history {
	c := testcluster.Get(t)
	class := c.CreateStorageClass(t, testcluster.StorageClassOptions{AllowVolumeExpansion: true})
	h := &history{t: t, c: c, ns: c.Namespace(t), helm: c.Helm(t, testcluster.Helm3), release: "app"}
	c.CreateHostPathPV(t, testcluster.VolumeOptions{StorageClassName: class.Name, ClaimNamespace: h.ns, ClaimName: h.claimName()})
	values := []string{"--set", "claim.storageClassName=" + class.Name}
	h.helmOK(append([]string{"install", h.release, appChart}, values...)...)
	h.claim = c.WaitForClaimBound(t, h.ns, h.claimName())
	expandByHand(t, h, "3Gi")
	h.helmOK(append([]string{"upgrade", h.release, appChart, "--set", "message=two",
		"--post-renderer", pvcGuardBinary(t), "--post-renderer-args=--namespace=" + h.ns}, values...)...)
	return h
}

// audit runs `pvc-guard audit RELEASE -o json`; exit codes 2 and 3 are
// verdicts, not failures.
func (h *history) audit(t *testing.T, args ...string) (*audit.Result, time.Duration) {
	t.Helper()
	start := time.Now()
	r := h.pvcGuard(append([]string{"audit", h.release, "-o", "json"}, args...)...)
	elapsed := time.Since(start)
	var exit *exec.ExitError
	if r.Err != nil && (!errors.As(r.Err, &exit) || exit.ExitCode() == audit.ExitError) {
		t.Fatalf("pvc-guard audit: %v\n%s", r.Err, r.Stderr)
	}
	var result audit.Result
	if err := json.Unmarshal([]byte(r.Stdout), &result); err != nil {
		t.Fatalf("reading the audit: %v\n%s", err, r.Stdout)
	}
	if code := exitCode(r.Err); code != result.ExitCode() {
		t.Errorf("exit code %d, want %d for %s", code, result.ExitCode(), r.Stdout)
	}
	return &result, elapsed
}

func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	return 0
}

func first[A, B any](a A, _ B) A { return a }

// rollbackTo1 is the prediction for revision 1 of the audit's one release.
func rollbackTo1(t *testing.T, result *audit.Result) audit.Check {
	t.Helper()
	if len(result.Releases) != 1 {
		t.Fatalf("audit found %d releases, want 1: %+v", len(result.Releases), result)
	}
	for _, rev := range result.Releases[0].Revisions {
		if rev.Revision == 1 {
			return rev.Check
		}
	}
	t.Fatalf("audit has no prediction for revision 1: %+v", result.Releases[0])
	return audit.Check{}
}

func containsAll(got, want []string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

// snapshotNamespace names every claim, ConfigMap, Secret (Helm's release
// records) and StatefulSet of the history's namespace with its
// resourceVersion, claims and StatefulSets with a digest of all but their
// status instead: controllers write their status at any time (see
// assertNothingChanged).
func snapshotNamespace(t *testing.T, h *history) []string {
	t.Helper()
	ctx, core := t.Context(), h.c.Client.CoreV1()
	var objects []string
	claims, err := core.PersistentVolumeClaims(h.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range claims.Items {
		objects = append(objects, "claim "+o.Name+"@"+digestWithoutStatus(t, &o))
	}
	configMaps, err := core.ConfigMaps(h.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range configMaps.Items {
		objects = append(objects, "configmap "+o.Name+"@"+o.ResourceVersion)
	}
	secrets, err := core.Secrets(h.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range secrets.Items {
		objects = append(objects, "secret "+o.Name+"@"+o.ResourceVersion)
	}
	sets, err := h.c.Client.AppsV1().StatefulSets(h.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range sets.Items {
		objects = append(objects, "statefulset "+o.Name+"@"+digestWithoutStatus(t, &o))
	}
	slices.Sort(objects)
	return objects
}

// readOnlyKubeconfig is a kubeconfig for a ServiceAccount that may read
// Helm's records and the release's objects, and write nothing.
func (h *history) readOnlyKubeconfig() string {
	h.t.Helper()
	kubeconfig := h.unprivilegedKubeconfig()
	ctx, rbac := h.t.Context(), h.c.Client.RbacV1()
	read := []string{"get", "list"}
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "nobody", Namespace: h.ns}}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "read-only"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets", "configmaps", "persistentvolumeclaims"}, Verbs: read}}}
	if _, err := rbac.Roles(h.ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		h.t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "read-only"}, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name}}
	if _, err := rbac.RoleBindings(h.ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		h.t.Fatal(err)
	}
	return kubeconfig
}

// TestHelmPluginAudit: `helm pvc-guard audit` runs the audit, in the
// namespace Helm gives the plugin.
func TestHelmPluginAudit(t *testing.T) {
	for _, version := range []testcluster.HelmVersion{testcluster.Helm3, testcluster.Helm4} {
		t.Run(string(version), func(t *testing.T) {
			t.Parallel()
			c := testcluster.Get(t)
			ns := c.Namespace(t)
			helm := installPlugins(t, c, version, ns)
			helm.ok("install", "app", appChart, "--set", "claim.enabled=false")
			helm.ok("upgrade", "app", appChart, "--set", "claim.enabled=false", "--set", "message=two")
			out := helm.ok("pvc-guard", "audit")
			if !strings.Contains(out, ns+"/app  rollback 1") {
				t.Errorf("helm pvc-guard audit printed no rollback row for %s/app:\n%s", ns, out)
			}
		})
	}
}
