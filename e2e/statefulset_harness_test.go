package e2e

import (
	"context"
	"fmt"
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// TestStatefulSetHarness proves the cluster runs the statefulset controller
// the StatefulSet tests rely on: it makes the pods and, from the
// volumeClaimTemplates, the claims, which the binder binds; a set deleted
// with --cascade=orphan and created again adopts the same pods, and its
// claims keep their identity and volumes (the runbook for growing a set's
// volumes, and what Helm does when it re-creates a deleted set).
func TestStatefulSetHarness(t *testing.T) {
	c := testcluster.Get(t)
	ns := c.Namespace(t)
	opts := testcluster.StatefulSetOptions{Name: "db", Replicas: 2, Templates: []string{"data", "logs"}}
	sts, claims := c.CreateStatefulSet(t, ns, opts)
	pods := []string{"db-0", "db-1"}
	before := waitForPodsControlledBy(t, c, ns, pods, sts.UID)

	err := c.Client.AppsV1().StatefulSets(ns).Delete(t.Context(), sts.Name,
		metav1.DeleteOptions{PropagationPolicy: new(metav1.DeletePropagationOrphan)})
	if err != nil {
		t.Fatalf("deleting the StatefulSet with orphan propagation: %v", err)
	}
	waitFor(t, "the StatefulSet to be gone", func(ctx context.Context) (bool, error) {
		_, err := c.Client.AppsV1().StatefulSets(ns).Get(ctx, sts.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	// The garbage collector removes the owner references before it lets the
	// set go, so the orphans are visible at once.
	if orphans := waitForPodsControlledBy(t, c, ns, pods, ""); !maps.Equal(orphans, before) {
		t.Fatalf("orphaning changed the pods: %v, were %v", orphans, before)
	}

	again, err := c.Client.AppsV1().StatefulSets(ns).Create(t.Context(), testcluster.NewStatefulSet(t, opts), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("re-creating the StatefulSet: %v", err)
	}
	if again.UID == sts.UID {
		t.Fatalf("the re-created StatefulSet has the old UID %s", sts.UID)
	}
	if adopted := waitForPodsControlledBy(t, c, ns, pods, again.UID); !maps.Equal(adopted, before) {
		t.Errorf("adopted pods %v, want the orphans %v (same UIDs)", adopted, before)
	}
	for _, claim := range claims {
		assertUnchanged(t, c.Client, claim)
	}
}

// waitForPodsControlledBy waits until each named pod of ns exists and its
// controller is owner (no controller when owner is empty), and returns the
// pods' UIDs by name.
func waitForPodsControlledBy(t *testing.T, c *testcluster.Cluster, ns string, names []string, owner types.UID) map[string]types.UID {
	t.Helper()
	uids := map[string]types.UID{}
	waitFor(t, fmt.Sprintf("pods %v controlled by %q", names, owner), func(ctx context.Context) (bool, error) {
		for _, name := range names {
			pod, err := c.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			if controllerUID(pod) != owner {
				return false, nil
			}
			uids[name] = pod.UID
		}
		return true, nil
	})
	return uids
}

func controllerUID(pod *corev1.Pod) types.UID {
	if ref := metav1.GetControllerOf(pod); ref != nil {
		return ref.UID
	}
	return ""
}
