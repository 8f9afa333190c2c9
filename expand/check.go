package expand

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

var (
	statefulSets   = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}
	claims         = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
	storageClasses = schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}
	pods           = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
)

// betaClassAnnotation is the storage class of claims from before
// spec.storageClassName; the API server still honours it.
const betaClassAnnotation = "volume.beta.kubernetes.io/storage-class"

// SetPlan is a Target that passed the checks: the live set, the claims to
// grow and the pods the set controls.
type SetPlan struct {
	*Target
	live *unstructured.Unstructured
	// Claims are the set's existing claims of the grown templates, every
	// ordinal that has one (also beyond replicas).
	Claims []ClaimGrowth
	// Pods are the set's pods by name, with their UIDs: the new set must
	// adopt exactly these.
	Pods map[string]string
	// Backup is the file the live set is saved to; set by Prepare.
	Backup string
	// deleted says Prepare deleted the live set.
	deleted bool
}

// ClaimGrowth is one claim of a grown template.
type ClaimGrowth struct {
	Name     string
	From, To resource.Quantity
	// uid, version and spec are what the checks read, so that a write
	// refused by a conflict is retried only on the same claim (recheck).
	uid     types.UID
	version string
	spec    map[string]any
}

// Grows says whether the claim's request is smaller than the template's
// new size (a claim is grown, never shrunk).
func (c ClaimGrowth) Grows() bool { return c.From.Cmp(c.To) < 0 }

// Check reads each target's set, claims, storage classes and pods, and
// refuses (changing nothing) a set that cannot be grown safely.
func (e *Expander) Check(ctx context.Context, targets []*Target) ([]*SetPlan, error) {
	var plans []*SetPlan
	for _, t := range targets {
		plan, err := e.check(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("refusing to grow the volumes of %s, nothing was changed: %w", t, err)
		}
		plans = append(plans, plan)
	}
	return plans, nil
}

func (e *Expander) check(ctx context.Context, t *Target) (*SetPlan, error) {
	live, err := e.Client.Resource(statefulSets).Namespace(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading the live set: %w", err)
	}
	if live.GetDeletionTimestamp() != nil {
		return nil, fmt.Errorf("the set is being deleted")
	}
	if policy, _, _ := unstructured.NestedString(live.Object, "spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted"); policy == "Delete" {
		return nil, fmt.Errorf("its persistentVolumeClaimRetentionPolicy.whenDeleted is Delete: deleting the set, which growing needs, would delete its claims; set whenDeleted: Retain first")
	}
	plan := &SetPlan{Target: t, live: live}
	list, err := e.Client.Resource(claims).Namespace(t.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing the claims of namespace %s: %w", t.Namespace, err)
	}
	classes := map[string]bool{}
	for _, g := range t.Templates {
		ownClaim := regexp.MustCompile("^" + regexp.QuoteMeta(g.Template+"-"+t.Name+"-") + "(0|[1-9][0-9]*)$")
		for i := range list.Items {
			claim := &list.Items[i]
			if !ownClaim.MatchString(claim.GetName()) {
				continue
			}
			growth, class, err := checkClaim(claim, g.To)
			if err != nil {
				return nil, fmt.Errorf("claim %s/%s: %w", t.Namespace, claim.GetName(), err)
			}
			if growth.Grows() {
				classes[class] = true
			}
			plan.Claims = append(plan.Claims, growth)
		}
	}
	for class := range classes {
		if err := e.checkClass(ctx, class); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(plan.Claims, func(a, b ClaimGrowth) int { return strings.Compare(a.Name, b.Name) })
	if plan.Pods, err = e.controlledPods(ctx, live); err != nil {
		return nil, err
	}
	return plan, nil
}

// checkClaim requires a bound claim with a storage class, and returns its
// growth and class.
func checkClaim(claim *unstructured.Unstructured, to resource.Quantity) (ClaimGrowth, string, error) {
	spec, _, _ := unstructured.NestedMap(claim.Object, "spec")
	growth := ClaimGrowth{Name: claim.GetName(), To: to, uid: claim.GetUID(), version: claim.GetResourceVersion(), spec: spec}
	if phase, _, _ := unstructured.NestedString(claim.Object, "status", "phase"); phase != "Bound" {
		return growth, "", fmt.Errorf("it is %s, not Bound: only a bound claim can grow", orNone(phase))
	}
	request, _, _ := unstructured.NestedString(claim.Object, "spec", "resources", "requests", "storage")
	from, err := resource.ParseQuantity(request)
	if err != nil {
		return growth, "", fmt.Errorf("its storage request %q: %w", request, err)
	}
	growth.From = from
	class, found, _ := unstructured.NestedString(claim.Object, "spec", "storageClassName")
	if !found {
		class = claim.GetAnnotations()[betaClassAnnotation]
	}
	if class == "" && growth.Grows() {
		return growth, "", fmt.Errorf("it has no StorageClass, and only a class with allowVolumeExpansion: true lets a claim grow")
	}
	return growth, class, nil
}

func (e *Expander) checkClass(ctx context.Context, name string) error {
	class, err := e.Client.Resource(storageClasses).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading StorageClass %s, which must allow expansion: %w", name, err)
	}
	if allowed, _, _ := unstructured.NestedBool(class.Object, "allowVolumeExpansion"); !allowed {
		return fmt.Errorf("StorageClass %s does not set allowVolumeExpansion: true, so its claims cannot grow", name)
	}
	return nil
}

// controlledPods are the pods whose controller is the set, by name.
func (e *Expander) controlledPods(ctx context.Context, set *unstructured.Unstructured) (map[string]string, error) {
	list, err := e.Client.Resource(pods).Namespace(set.GetNamespace()).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing the pods of namespace %s: %w", set.GetNamespace(), err)
	}
	controlled := map[string]string{}
	for _, pod := range list.Items {
		if ref := metav1.GetControllerOf(&pod); ref != nil && ref.UID == set.GetUID() {
			controlled[pod.GetName()] = string(pod.GetUID())
		}
	}
	return controlled, nil
}

func orNone(s string) string {
	if s == "" {
		return "without a phase"
	}
	return s
}

// PrintPlan writes what Prepare and the upgrade will do.
func PrintPlan(w io.Writer, plans []*SetPlan) {
	for _, p := range plans {
		fmt.Fprintf(w, "pvc-guard: expand-volumes plan: %s: delete with --cascade=orphan (its %d pod(s) keep running) and let Helm create it again\n", p.Target, len(p.Pods))
		for _, g := range p.Templates {
			fmt.Fprintf(w, "  template %s: %s -> %s\n", g.Template, g.From.String(), g.To.String())
		}
		for _, c := range p.Claims {
			if c.Grows() {
				fmt.Fprintf(w, "  claim %s: grow %s -> %s\n", c.Name, c.From.String(), c.To.String())
			} else {
				fmt.Fprintf(w, "  claim %s: keep %s (not smaller than %s)\n", c.Name, c.From.String(), c.To.String())
			}
		}
	}
}
