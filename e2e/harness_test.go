package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// The refusal pvc-guard exists to avoid, as kube-apiserver words it.
const immutableMessage = "spec is immutable"

// TestHarnessIsReal proves the harness is a real control plane, not a fake:
// the PersistentVolume binder binds a claim, and the API server enforces the
// immutability of a bound claim's volumeName however a client tries to clear
// it.
func TestHarnessIsReal(t *testing.T) {
	c := testcluster.Get(t)
	ns := c.Namespace(t)
	claim := bindClaim(t, c, ns, "data")

	if !managedBy(claim, "kube-controller-manager", "f:volumeName") {
		t.Errorf("spec.volumeName is not owned by kube-controller-manager; managedFields: %+v", claim.ManagedFields)
	}

	claims := c.Client.CoreV1().PersistentVolumeClaims(ns)
	cases := []struct {
		name   string
		change func(context.Context) error
	}{
		{"merge patch to null", func(ctx context.Context) error {
			_, err := claims.Patch(ctx, claim.Name, types.MergePatchType,
				[]byte(`{"spec":{"volumeName":null}}`), metav1.PatchOptions{})
			return err
		}},
		{"JSON patch remove", func(ctx context.Context) error {
			_, err := claims.Patch(ctx, claim.Name, types.JSONPatchType,
				[]byte(`[{"op":"remove","path":"/spec/volumeName"}]`), metav1.PatchOptions{})
			return err
		}},
		{"update without volumeName", func(ctx context.Context) error {
			live, err := claims.Get(ctx, claim.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			live.Spec.VolumeName = ""
			_, err = claims.Update(ctx, live, metav1.UpdateOptions{})
			return err
		}},
		{"merge patch to another volume", func(ctx context.Context) error {
			_, err := claims.Patch(ctx, claim.Name, types.MergePatchType,
				[]byte(`{"spec":{"volumeName":"some-other-volume"}}`), metav1.PatchOptions{})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.change(t.Context())
			assertImmutable(t, err)
			assertUnchanged(t, c.Client, claim)
		})
	}
}

// bindClaim creates a 1Gi claim and a volume reserved for it, waits until
// the binder has bound them and returns the bound claim.
func bindClaim(t *testing.T, c *testcluster.Cluster, ns, name string) *corev1.PersistentVolumeClaim {
	t.Helper()
	pv := c.CreateHostPathPV(t, testcluster.VolumeOptions{
		StorageClassName: "manual", ClaimNamespace: ns, ClaimName: name,
	})
	class := "manual"
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: &class,
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			},
		},
	}
	if _, err := c.Client.CoreV1().PersistentVolumeClaims(ns).Create(t.Context(), claim, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating claim: %v", err)
	}
	bound := c.WaitForClaimBound(t, ns, name)
	if bound.Spec.VolumeName != pv.Name {
		t.Fatalf("claim bound to %q, want %q", bound.Spec.VolumeName, pv.Name)
	}
	return bound
}

// managedBy reports whether manager's managedFields entry on claim names
// field (in the FieldsV1 encoding, e.g. "f:volumeName").
func managedBy(claim *corev1.PersistentVolumeClaim, manager, field string) bool {
	for _, entry := range claim.ManagedFields {
		if entry.Manager == manager && entry.FieldsV1 != nil &&
			strings.Contains(string(entry.FieldsV1.Raw), `"`+field+`"`) {
			return true
		}
	}
	return false
}

// assertImmutable checks that err is the API server's refusal of a bound
// claim's spec change: HTTP 422 Unprocessable Entity, reason Invalid, and
// the "spec is immutable" message.
func assertImmutable(t *testing.T, err error) {
	t.Helper()
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		t.Fatalf("got error %v, want an API status error", err)
	}
	if code := status.Status().Code; code != http.StatusUnprocessableEntity {
		t.Errorf("HTTP status %d, want %d", code, http.StatusUnprocessableEntity)
	}
	if !apierrors.IsInvalid(err) {
		t.Errorf("reason %q, want %q", apierrors.ReasonForError(err), metav1.StatusReasonInvalid)
	}
	if !strings.Contains(err.Error(), immutableMessage) {
		t.Errorf("message %q does not say %q", err.Error(), immutableMessage)
	}
}

// assertUnchanged checks that the live claim is still want, bound to the
// same volume.
func assertUnchanged(t *testing.T, client kubernetes.Interface, want *corev1.PersistentVolumeClaim) {
	t.Helper()
	live, err := client.CoreV1().PersistentVolumeClaims(want.Namespace).Get(t.Context(), want.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading claim back: %v", err)
	}
	if live.UID != want.UID || live.Spec.VolumeName != want.Spec.VolumeName || live.Status.Phase != corev1.ClaimBound {
		t.Errorf("claim changed: uid %s volume %q phase %s, want uid %s volume %q phase Bound",
			live.UID, live.Spec.VolumeName, live.Status.Phase, want.UID, want.Spec.VolumeName)
	}
}
