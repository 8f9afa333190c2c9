package expand

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"github.com/pvc-guard/pvc-guard/internal/objdiff"
)

// Controllers write claims and sets at any time (since Kubernetes 1.37 the
// pvc-protection controller flips a bound claim's Unused condition as pods
// come and go; the resizer and the statefulset controller write status),
// and each write moves the resourceVersion that Prepare's writes carry as a
// precondition. So a Conflict is not yet a refusal: the object is read
// again, and written again with the new resourceVersion only when it is
// still what the checks passed; anything else refuses, naming the field.

// conflictRetry bounds the writes of one object: client-go's backoff for
// conflicts with other writers (5 writes, 10ms apart).
var conflictRetry = retry.DefaultRetry

// retryConflicts calls write, and after each Conflict recheck, which reads
// the object again: its error refuses (ending the retries), false means
// nothing is left to write. Only a Conflict is retried.
func retryConflicts(write func() error, recheck func() (bool, error)) error {
	attempts := 0
	err := retry.RetryOnConflict(conflictRetry, func() error {
		if attempts > 0 {
			if more, err := recheck(); err != nil || !more {
				return err
			}
		}
		attempts++
		return write()
	})
	if apierrors.IsConflict(err) {
		return fmt.Errorf("%d writes in a row met a conflict: something keeps writing it (so far not in what the checks read); run again: %w", attempts, err)
	}
	return err
}

// grow raises the claim's request, with the resourceVersion the checks read
// as precondition, or a newer one of the claim still as checked.
func (e *Expander) grow(ctx context.Context, namespace string, c ClaimGrowth) error {
	client := e.Client.Resource(claims).Namespace(namespace)
	version := c.version
	return retryConflicts(func() error {
		patch, err := json.Marshal(map[string]any{
			"metadata": map[string]any{"resourceVersion": version},
			"spec":     map[string]any{"resources": map[string]any{"requests": map[string]any{"storage": c.To.String()}}},
		})
		if err != nil {
			return err
		}
		_, err = client.Patch(ctx, c.Name, types.MergePatchType, patch, metav1.PatchOptions{})
		return err
	}, func() (bool, error) {
		fresh, err := client.Get(ctx, c.Name, metav1.GetOptions{})
		if err != nil {
			return false, fmt.Errorf("reading it again after a conflict: %w", err)
		}
		grows, err := c.recheck(fresh)
		if err == nil {
			next := "growing it again"
			if !grows {
				next = "it already requests " + c.To.String()
			}
			e.progress("3/5 claim %s/%s was written meanwhile, not where the checks read (resourceVersion %s, now %s); %s",
				namespace, c.Name, version, fresh.GetResourceVersion(), next)
		}
		version = fresh.GetResourceVersion()
		return grows, err
	})
}

// recheck says whether the claim read again is the one the checks passed:
// same UID, not being deleted, bound, the same spec with the request still
// the planned one (true: grow it) or already the target (false: done).
func (c ClaimGrowth) recheck(fresh *unstructured.Unstructured) (bool, error) {
	if fresh.GetUID() != c.uid {
		return false, replaced(c.uid, fresh)
	}
	if fresh.GetDeletionTimestamp() != nil {
		return false, fmt.Errorf("it is being deleted since the checks")
	}
	now, _, err := checkClaim(fresh, c.To)
	if err != nil {
		return false, err
	}
	spec, _, _ := unstructured.NestedMap(fresh.Object, "spec")
	done := now.From.Cmp(c.To) == 0
	if done || now.From.Cmp(c.From) == 0 {
		// The same size, however written, is no change.
		storage, _, _ := unstructured.NestedFieldCopy(c.spec, "resources", "requests", "storage")
		_ = unstructured.SetNestedField(spec, storage, "resources", "requests", "storage")
	}
	if changes := objdiff.Changes("spec", c.spec, spec); len(changes) > 0 {
		return false, changedSince(changes)
	}
	return !done, nil
}

// deleteOrphaning deletes the set with orphan propagation and preconditions
// on its UID and resourceVersion; after a Conflict, with the resourceVersion
// of the set read again if it is still the set the checks passed and saved.
func (e *Expander) deleteOrphaning(ctx context.Context, p *SetPlan) error {
	sets := e.Client.Resource(statefulSets).Namespace(p.Namespace)
	return retryConflicts(func() error {
		uid, version := p.live.GetUID(), p.live.GetResourceVersion()
		return sets.Delete(ctx, p.Name, metav1.DeleteOptions{
			PropagationPolicy: new(metav1.DeletePropagationOrphan),
			Preconditions:     &metav1.Preconditions{UID: &uid, ResourceVersion: &version},
		})
	}, func() (bool, error) {
		fresh, err := sets.Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil {
			return false, fmt.Errorf("reading it again after a conflict: %w", err)
		}
		if err := p.recheck(fresh); err != nil {
			return false, fmt.Errorf("%w; nothing was deleted: look at the change, then run again", err)
		}
		e.progress("3/5 %s was written meanwhile, not in what was saved (resourceVersion %s, now %s); deleting it again", p.Target, p.live.GetResourceVersion(), fresh.GetResourceVersion())
		p.live = fresh
		return true, nil
	})
}

// recheck refuses a set read again that is not the one the checks passed
// and Prepare saved: another UID, being deleted, or any change to what the
// saved file holds (spec, labels, annotations, ...; status is not saved).
func (p *SetPlan) recheck(fresh *unstructured.Unstructured) error {
	if fresh.GetUID() != p.live.GetUID() {
		return replaced(p.live.GetUID(), fresh)
	}
	if fresh.GetDeletionTimestamp() != nil {
		return fmt.Errorf("someone else is deleting it since the checks")
	}
	if changes := objdiff.Changes("", savable(p.live), savable(fresh)); len(changes) > 0 {
		return changedSince(changes)
	}
	if was, now := p.live.GetGeneration(), fresh.GetGeneration(); was != now {
		return fmt.Errorf("its spec was written since the checks (generation %d, now %d)", was, now)
	}
	return nil
}

func replaced(uid any, fresh *unstructured.Unstructured) error {
	return fmt.Errorf("it was replaced since the checks (UID %s, now %s)", uid, fresh.GetUID())
}

// changedSince names each changed field with both values.
func changedSince(changes []objdiff.Change) error {
	var fields []string
	for _, c := range changes {
		fields = append(fields, fmt.Sprintf("%s (was %s, now %s)", strings.TrimPrefix(c.Path, "."), shortJSON(c.Was), shortJSON(c.Now)))
	}
	return fmt.Errorf("it changed since the checks: %s", strings.Join(fields, ", "))
}

func shortJSON(v any) string {
	if v == nil {
		return "absent"
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(data) > 80 {
		return string(data[:77]) + "..."
	}
	return string(data)
}
