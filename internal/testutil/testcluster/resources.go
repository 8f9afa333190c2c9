package testcluster

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// TestLabel marks every object this package creates, so that objects left
// in a long-running cluster (`make cluster-up`) are easy to find.
const TestLabel = "pvc-guard.dev/e2e-test"

// BindTimeout bounds WaitForClaimBound; the binder usually takes well under
// a second.
const BindTimeout = 30 * time.Second

// Namespace creates a namespace for t alone, named after the test, and
// deletes it (with everything in it) when t ends.
func (c *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: "e2e-" + dnsLabel(t.Name(), 40) + "-",
		Labels:       map[string]string{TestLabel: dnsLabel(t.Name(), 63)},
	}}
	ns, err := c.Client.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a test namespace: %v", err)
	}
	t.Cleanup(func() { c.deleteLater(t, "namespace", ns.Name, c.Client.CoreV1().Namespaces().Delete) })
	return ns.Name
}

// VolumeOptions describe a hostPath PersistentVolume for static binding.
type VolumeOptions struct {
	// StorageClassName is matched by the binder against a claim's
	// storageClassName; no StorageClass object is needed. Empty means the
	// volume binds only claims that ask for no class ("").
	StorageClassName string
	// Capacity defaults to 1Gi.
	Capacity string
	// AccessModes default to ReadWriteOnce.
	AccessModes []corev1.PersistentVolumeAccessMode
	// ClaimNamespace and ClaimName, when set, reserve the volume for that
	// claim (spec.claimRef), which keeps parallel tests that use the same
	// class from binding each other's volumes. The binder still fills the
	// claim's volumeName, exactly as for an unreserved volume.
	ClaimNamespace, ClaimName string
}

// CreateHostPathPV creates a hostPath PersistentVolume and deletes it when t
// ends. Nothing mounts it: the cluster has no kubelet, only the binder.
func (c *Cluster) CreateHostPathPV(t testing.TB, opts VolumeOptions) *corev1.PersistentVolume {
	t.Helper()
	capacity := opts.Capacity
	if capacity == "" {
		capacity = "1Gi"
	}
	quantity, err := resource.ParseQuantity(capacity)
	if err != nil {
		t.Fatalf("volume capacity %q: %v", capacity, err)
	}
	modes := opts.AccessModes
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "e2e-" + dnsLabel(t.Name(), 40) + "-",
			Labels:       map[string]string{TestLabel: dnsLabel(t.Name(), 63)},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: quantity},
			AccessModes:                   modes,
			StorageClassName:              opts.StorageClassName,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: t.TempDir()},
			},
		},
	}
	if opts.ClaimName != "" {
		pv.Spec.ClaimRef = &corev1.ObjectReference{Namespace: opts.ClaimNamespace, Name: opts.ClaimName}
	}
	pv, err = c.Client.CoreV1().PersistentVolumes().Create(t.Context(), pv, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a PersistentVolume: %v", err)
	}
	t.Cleanup(func() { c.deleteLater(t, "PersistentVolume", pv.Name, c.Client.CoreV1().PersistentVolumes().Delete) })
	return pv
}

// StorageClassOptions describe a StorageClass.
type StorageClassOptions struct {
	// AllowVolumeExpansion lets bound claims of the class grow.
	AllowVolumeExpansion bool
}

// CreateStorageClass creates a StorageClass for statically provisioned
// volumes (provisioner kubernetes.io/no-provisioner, immediate binding,
// since no scheduler runs) and deletes it when t ends. Give volumes its name
// as their StorageClassName.
func (c *Cluster) CreateStorageClass(t testing.TB, opts StorageClassOptions) *storagev1.StorageClass {
	t.Helper()
	immediate := storagev1.VolumeBindingImmediate
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "e2e-" + dnsLabel(t.Name(), 40) + "-",
			Labels:       map[string]string{TestLabel: dnsLabel(t.Name(), 63)},
		},
		Provisioner:          "kubernetes.io/no-provisioner",
		VolumeBindingMode:    &immediate,
		AllowVolumeExpansion: &opts.AllowVolumeExpansion,
	}
	sc, err := c.Client.StorageV1().StorageClasses().Create(t.Context(), sc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a StorageClass: %v", err)
	}
	t.Cleanup(func() { c.deleteLater(t, "StorageClass", sc.Name, c.Client.StorageV1().StorageClasses().Delete) })
	return sc
}

// WaitForClaimBound waits until the claim ns/name is Bound and returns it.
func (c *Cluster) WaitForClaimBound(t testing.TB, ns, name string) *corev1.PersistentVolumeClaim {
	t.Helper()
	claim, err := c.waitForClaimBound(t.Context(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	return claim
}

// waitForClaimBound waits until the claim ns/name is Bound. On a timeout it
// returns the claim as last seen (nil if it never appeared) and an error
// that says so.
func (c *Cluster) waitForClaimBound(ctx context.Context, ns, name string) (*corev1.PersistentVolumeClaim, error) {
	var claim *corev1.PersistentVolumeClaim
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, BindTimeout, true,
		func(ctx context.Context) (bool, error) {
			live, err := c.Client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil // Helm or the test may not have created it yet
			}
			if err != nil {
				return false, err
			}
			claim = live
			return claim.Status.Phase == corev1.ClaimBound, nil
		})
	if err != nil {
		state := "not found"
		if claim != nil {
			state = fmt.Sprintf("phase %q, volumeName %q", claim.Status.Phase, claim.Spec.VolumeName)
		}
		return claim, fmt.Errorf("claim %s/%s not bound within %s (%s): %w", ns, name, BindTimeout, state, err)
	}
	return claim, nil
}

// deleteLater deletes a cluster object at the end of a test without waiting
// for finalizers: a bound volume, for instance, goes only once its claim's
// namespace is gone, which the namespace controller finishes on its own.
func (c *Cluster) deleteLater(t testing.TB, kind, name string,
	del func(context.Context, string, metav1.DeleteOptions) error) {
	t.Helper()
	// t.Context() is already cancelled during cleanup.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := del(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("deleting %s %s: %v", kind, name, err)
	}
}

var notDNS = regexp.MustCompile(`[^a-z0-9]+`)

// dnsLabel turns a test name into at most max characters that are valid in
// a DNS label (and a label value): lower case, digits and inner dashes.
func dnsLabel(s string, max int) string {
	s = strings.Trim(notDNS.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > max {
		s = strings.TrimRight(s[:max], "-")
	}
	if s == "" {
		return "test"
	}
	return s
}
