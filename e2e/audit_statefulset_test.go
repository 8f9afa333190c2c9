package e2e

import (
	"context"
	"path/filepath"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pvc-guard/pvc-guard/audit"
	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// TestAuditPredictsStatefulSetRollbacks is the acceptance case "a
// StatefulSet template label change": the db chart's claim templates carry
// helm.sh/chart, so a new chart version asks for a change the API server
// refuses (a set's volumeClaimTemplates are immutable).
func TestAuditPredictsStatefulSetRollbacks(t *testing.T) {
	cases := []auditCase{
		// pvc-guard's post-renderer kept the live template labels in
		// revision 2, so rolling back to revision 1 leaves them alone.
		{name: "template labels kept by pvc-guard (helm3)", scenario: func(t *testing.T) *history {
			return keptTemplateLabelsHistory(t, testcluster.Helm3)
		}, wantStockOK: true, wantMethod: audit.ClientSide},
		{name: "template labels kept by pvc-guard (helm4)", scenario: func(t *testing.T) *history {
			return keptTemplateLabelsHistory(t, testcluster.Helm4)
		}, wantStockOK: true, wantMethod: audit.ServerSide},
		// The set was re-created with version B's labels: rolling back to
		// version A's templates is refused, pvc-guard keeps the live ones.
		{name: "set re-created with other template labels (helm3)", scenario: func(t *testing.T) *history {
			return recreatedSetHistory(t, testcluster.Helm3)
		}, wantFields: []string{templateLabelsField}, wantMethod: audit.ClientSide},
		{name: "set re-created with other template labels (helm4)", scenario: func(t *testing.T) *history {
			return recreatedSetHistory(t, testcluster.Helm4)
		}, wantFields: []string{templateLabelsField}, wantMethod: audit.ServerSide},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.run)
	}
}

// templateLabelsField is the field the rule sts-template-labels names.
const templateLabelsField = "spec.volumeClaimTemplates[metadata.name=data].metadata.labels"

// dbHistoryValues: one replica, claim templates labelled with the chart's
// version (Parallel pod management, the chart's default: no kubelet).
var dbHistoryValues = []string{"--set", "replicaCount=1", "--set", "persistence.chartLabels=true"}

// newDBHistory installs revision 1 of the db chart at version 0.1.0 and
// returns the history with version 0.2.0 of the chart, packaged.
func newDBHistory(t *testing.T, version testcluster.HelmVersion) (*history, string) {
	t.Helper()
	c := testcluster.Get(t)
	h := &history{t: t, c: c, ns: c.Namespace(t), helm: c.Helm(t, version), release: "app"}
	h.helmOK(append([]string{"install", h.release, dbChart}, dbHistoryValues...)...)
	dir := t.TempDir()
	pkg := []string{"package", dbChart, "--version", "0.2.0", "--destination", dir}
	succeeded(t, "helm", pkg, h.helm.Run(pkg...))
	return h, filepath.Join(dir, "db-0.2.0.tgz")
}

// keptTemplateLabelsHistory: revision 2 upgrades to chart 0.2.0 through
// pvc-guard's post-renderer, which keeps the live (0.1.0) template labels
// in the stored manifest; a stock upgrade would have been refused.
func keptTemplateLabelsHistory(t *testing.T, version testcluster.HelmVersion) *history {
	h, chartB := newDBHistory(t, version)
	postRenderer := pvcGuardBinary(t)
	if version == testcluster.Helm4 { // whose --post-renderer names a plugin
		h.helm, postRenderer = installPlugins(t, h.c, version, h.ns).Helm, "pvc-guard-render"
	}
	h.helmOK(append([]string{"upgrade", h.release, chartB,
		"--post-renderer", postRenderer, "--post-renderer-args=--namespace=" + h.ns}, dbHistoryValues...)...)
	return h
}

// recreatedSetHistory: the set is deleted with --cascade=orphan (the
// runbook for changing its templates) and revision 2, chart 0.2.0, is a
// stock upgrade, which creates the missing set with 0.2.0's labels.
func recreatedSetHistory(t *testing.T, version testcluster.HelmVersion) *history {
	h, chartB := newDBHistory(t, version)
	sets := h.c.Client.AppsV1().StatefulSets(h.ns)
	if err := sets.Delete(t.Context(), h.release, metav1.DeleteOptions{PropagationPolicy: new(metav1.DeletePropagationOrphan)}); err != nil {
		t.Fatalf("deleting the StatefulSet with orphan propagation: %v", err)
	}
	waitFor(t, "the StatefulSet to be gone", func(ctx context.Context) (bool, error) {
		_, err := sets.Get(ctx, h.release, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	h.helmOK(append([]string{"upgrade", h.release, chartB}, dbHistoryValues...)...)
	return h
}
