package testcluster

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StatefulSetOptions describe a StatefulSet whose claims, made by the
// statefulset controller from its volumeClaimTemplates, bind to hostPath
// volumes of a storage class.
type StatefulSetOptions struct {
	// Name of the set; its pods are labelled app=Name, which is also the
	// selector.
	Name string
	// Replicas defaults to 1.
	Replicas int32
	// Templates are the names of the claim templates; default ["data"].
	Templates []string
	// StorageClassName of the templates and the volumes; default "manual".
	// No StorageClass object is needed for static binding.
	StorageClassName string
	// Capacity is each template's request and each volume's size; default 1Gi.
	Capacity string
}

func (o StatefulSetOptions) withDefaults() StatefulSetOptions {
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if len(o.Templates) == 0 {
		o.Templates = []string{"data"}
	}
	if o.StorageClassName == "" {
		o.StorageClassName = "manual"
	}
	if o.Capacity == "" {
		o.Capacity = "1Gi"
	}
	return o
}

// ClaimNames are the claims the statefulset controller makes for the set:
// <template>-<set>-<ordinal>, ordinals from 0.
func (o StatefulSetOptions) ClaimNames() []string {
	o = o.withDefaults()
	var names []string
	for _, template := range o.Templates {
		for ordinal := range o.Replicas {
			names = append(names, fmt.Sprintf("%s-%s-%d", template, o.Name, ordinal))
		}
	}
	return names
}

// CreateStatefulSetVolumes creates, for each claim of the set, a hostPath
// volume reserved for that claim (so parallel tests never bind each other's
// volumes), and deletes them when t ends. Call it before anything (a chart,
// CreateStatefulSet) creates the set.
func (c *Cluster) CreateStatefulSetVolumes(t testing.TB, ns string, opts StatefulSetOptions) {
	t.Helper()
	opts = opts.withDefaults()
	for _, claim := range opts.ClaimNames() {
		c.CreateHostPathPV(t, VolumeOptions{
			StorageClassName: opts.StorageClassName,
			Capacity:         opts.Capacity,
			ClaimNamespace:   ns,
			ClaimName:        claim,
		})
	}
}

// NewStatefulSet returns the set opts describe, not yet created: Parallel
// pod management, because without a kubelet no pod becomes Ready and
// OrderedReady would stop at ordinal 0, and a container that never runs.
func NewStatefulSet(t testing.TB, opts StatefulSetOptions) *appsv1.StatefulSet {
	t.Helper()
	opts = opts.withDefaults()
	size, err := resource.ParseQuantity(opts.Capacity)
	if err != nil {
		t.Fatalf("StatefulSet capacity %q: %v", opts.Capacity, err)
	}
	labels := map[string]string{"app": opts.Name}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: opts.Name, Labels: labels},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &opts.Replicas,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			ServiceName:         opts.Name,
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}}},
			},
		},
	}
	for _, name := range opts.Templates {
		sts.Spec.VolumeClaimTemplates = append(sts.Spec.VolumeClaimTemplates, corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				StorageClassName: &opts.StorageClassName,
				Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
			},
		})
	}
	return sts
}

// CreateStatefulSet creates the volumes and the set opts describe in ns and
// waits until every claim of the set exists and is Bound. It returns the set
// and its claims in ClaimNames order. The namespace's deletion removes both.
func (c *Cluster) CreateStatefulSet(t testing.TB, ns string, opts StatefulSetOptions) (*appsv1.StatefulSet, []*corev1.PersistentVolumeClaim) {
	t.Helper()
	sts := NewStatefulSet(t, opts)
	c.CreateStatefulSetVolumes(t, ns, opts)
	sts, err := c.Client.AppsV1().StatefulSets(ns).Create(t.Context(), sts, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating StatefulSet %s/%s: %v", ns, opts.Name, err)
	}
	return sts, c.WaitForStatefulSetClaims(t, ns, opts)
}

// WaitForStatefulSetClaims waits until every claim of the set opts describe
// exists and is Bound, and returns them in ClaimNames order.
func (c *Cluster) WaitForStatefulSetClaims(t testing.TB, ns string, opts StatefulSetOptions) []*corev1.PersistentVolumeClaim {
	t.Helper()
	var claims []*corev1.PersistentVolumeClaim
	for _, name := range opts.ClaimNames() {
		claim, err := c.waitForClaimBound(t.Context(), ns, name)
		if claim == nil && err != nil {
			// A cluster left running from before cluster/up.sh started the
			// statefulset controller never makes the claims.
			t.Fatalf("%v; the statefulset controller makes it: is kube-controller-manager running it (--controllers in cluster/up.sh)?", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		claims = append(claims, claim)
	}
	return claims
}
