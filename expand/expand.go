package expand

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

// Expander carries out the growth. Every cluster read and write goes
// through Client, so that the steps are tested with client-go's fake
// dynamic client and its reactors.
type Expander struct {
	Client dynamic.Interface
	// Out gets one progress line per step.
	Out io.Writer
	// BackupDir is where the live sets are saved.
	BackupDir string
	// Timeout bounds each wait: the set to be gone, the pods to be adopted.
	Timeout time.Duration
	// Interval is how often a wait polls; 0 means a second.
	Interval time.Duration
}

func (e *Expander) progress(format string, args ...any) {
	fmt.Fprintf(e.Out, "pvc-guard: expand-volumes: "+format+"\n", args...)
}

// Prepare saves each set to a file, grows its claims and deletes it with
// orphan propagation, waiting until it is gone. When it fails after a set
// was deleted, call Finish all the same: it re-creates the deleted sets.
func (e *Expander) Prepare(ctx context.Context, plans []*SetPlan) error {
	for _, p := range plans {
		if err := e.save(p); err != nil {
			return err
		}
		e.progress("3/5 saved %s to %s (restore by hand: %s)", p.Target, p.Backup, p.RestoreCommand())
		for _, c := range p.Claims {
			if !c.Grows() {
				continue
			}
			if err := e.grow(ctx, p.Namespace, c); err != nil {
				return fmt.Errorf("growing claim %s/%s to %s (the set is unchanged, saved in %s): %w", p.Namespace, c.Name, c.To.String(), p.Backup, err)
			}
			e.progress("3/5 grew claim %s/%s from %s to %s", p.Namespace, c.Name, c.From.String(), c.To.String())
		}
		if err := e.delete(ctx, p); err != nil {
			return err
		}
		e.progress("3/5 deleted %s with orphan propagation; its pods keep running", p.Target)
	}
	return nil
}

// save writes the live set, ready to create again.
func (e *Expander) save(p *SetPlan) error {
	data, err := yaml.Marshal(savable(p.live))
	if err != nil {
		return fmt.Errorf("encoding %s to save it: %w", p.Target, err)
	}
	stamp := time.Now().UTC().Format("20060102T150405Z")
	p.Backup = filepath.Join(e.BackupDir, fmt.Sprintf("statefulset-%s-%s-%s.yaml", p.Namespace, p.Name, stamp))
	if err := os.WriteFile(p.Backup, data, 0o600); err != nil {
		return fmt.Errorf("saving %s before changing anything (nothing was changed): %w", p.Target, err)
	}
	return nil
}

// savable is the set without the fields the API server owns (uid,
// resourceVersion, status, ...): what the saved file holds.
func savable(set *unstructured.Unstructured) map[string]any {
	saved := set.DeepCopy()
	for _, field := range []string{"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink"} {
		unstructured.RemoveNestedField(saved.Object, "metadata", field)
	}
	unstructured.RemoveNestedField(saved.Object, "status")
	return saved.Object
}

// RestoreCommand is the one command that creates the saved set again.
func (p *SetPlan) RestoreCommand() string { return "kubectl create -f " + p.Backup }

// delete deletes the set the checks read, and no other: the preconditions
// on UID and resourceVersion make the API server refuse a set that was
// replaced or changed since (deleteOrphaning tells a change that matters
// from a controller's write of status).
func (e *Expander) delete(ctx context.Context, p *SetPlan) error {
	if err := e.deleteOrphaning(ctx, p); err != nil {
		return fmt.Errorf("deleting %s with orphan propagation (saved in %s): %w", p.Target, p.Backup, err)
	}
	p.deleted = true
	// The garbage collector orphans the pods, then removes the set; a set
	// created before that is refused (AlreadyExists).
	err := e.poll(ctx, func(ctx context.Context) (bool, error) {
		_, err := e.Client.Resource(statefulSets).Namespace(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		return fmt.Errorf("waiting for %s to be gone after the orphan delete: %w", p.Target, err)
	}
	return nil
}

func (e *Expander) poll(ctx context.Context, done wait.ConditionWithContextFunc) error {
	interval := e.Interval
	if interval == 0 {
		interval = time.Second
	}
	return wait.PollUntilContextTimeout(ctx, interval, e.Timeout, true, done)
}

// Finish runs after Helm (helmErr is Helm's failure, nil on success), and
// after a failed Prepare. For each deleted set: if a new set exists, it
// waits until it controls the old set's pods; if none does, it creates the
// saved set again so that the pods are adopted, and says so. It returns the
// errors that stopped a set's recovery, each with the command that restores
// the set by hand; Helm's own failure is the caller's to report.
func (e *Expander) Finish(ctx context.Context, plans []*SetPlan, helmErr error) error {
	// An interrupted run must still put the set back.
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for _, p := range plans {
		if !p.deleted {
			continue
		}
		if err := e.finish(ctx, p, helmErr); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (e *Expander) finish(ctx context.Context, p *SetPlan, helmErr error) error {
	var set *unstructured.Unstructured
	err := e.untilAnswered(ctx, func(ctx context.Context) (err error) {
		set, err = e.Client.Resource(statefulSets).Namespace(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
		return err
	})
	switch {
	case apierrors.IsNotFound(err):
		if helmErr == nil {
			e.progress("5/5 Helm succeeded but %s does not exist; creating the saved set from %s", p.Target, p.Backup)
		} else {
			e.progress("5/5 the upgrade failed before Helm created %s; creating the saved set from %s", p.Target, p.Backup)
		}
		if set, err = e.restore(ctx, p); err != nil {
			return fmt.Errorf("%s does not exist and creating it from %s failed: %w; its pods keep running, orphaned: run %s", p.Target, p.Backup, err, p.RestoreCommand())
		}
	case err != nil:
		return fmt.Errorf("reading %s to verify it: %w; if it does not exist, run %s", p.Target, err, p.RestoreCommand())
	default:
		e.progress("5/5 %s exists again (created by Helm); waiting until it adopts its %d pod(s)", p.Target, len(p.Pods))
	}
	if err := e.waitAdopted(ctx, p, set.GetUID()); err != nil {
		return fmt.Errorf("%s exists, but %w (saved set: %s)", p.Target, err, p.Backup)
	}
	e.progress("5/5 %s owns its pods again (same pods, same UIDs); saved set kept in %s", p.Target, p.Backup)
	return nil
}

// restore creates the saved set; its pods are adopted by its selector. It
// writes as the live set's manager did (Helm: "helm", by server-side apply
// or by update), so that Helm's next apply of the set, --atomic's rollback
// first, owns the fields again instead of conflicting with pvc-guard.
func (e *Expander) restore(ctx context.Context, p *SetPlan) (*unstructured.Unstructured, error) {
	data, err := os.ReadFile(p.Backup)
	if err != nil {
		return nil, err
	}
	saved := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &saved.Object); err != nil {
		return nil, fmt.Errorf("reading %s: %w", p.Backup, err)
	}
	sets := e.Client.Resource(statefulSets).Namespace(p.Namespace)
	manager, apply := specManager(p.live)
	var created *unstructured.Unstructured
	err = e.untilAnswered(ctx, func(ctx context.Context) (err error) {
		if apply {
			created, err = sets.Apply(ctx, p.Name, saved, metav1.ApplyOptions{FieldManager: manager, Force: true})
		} else {
			created, err = sets.Create(ctx, saved, metav1.CreateOptions{FieldManager: manager})
		}
		return err
	})
	if apierrors.IsAlreadyExists(err) {
		// A create of ours that the API server carried out before the
		// connection broke, or Helm's, late: adopt it all the same.
		return sets.Get(ctx, p.Name, metav1.GetOptions{})
	}
	return created, err
}

// untilAnswered calls op until it succeeds or the API server answers with
// an error, for at most Timeout: after an interruption or while the API
// server is away (connection refused, unavailable), the set must still be
// put back once it returns.
func (e *Expander) untilAnswered(ctx context.Context, op func(context.Context) error) error {
	var last error
	err := e.poll(ctx, func(ctx context.Context) (bool, error) {
		last = op(ctx)
		return last == nil || answered(last), nil
	})
	if last != nil {
		return last
	}
	return err
}

// answered says whether err is the API server's verdict rather than a
// failure to reach it or a momentary overload.
func answered(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	return !apierrors.IsServiceUnavailable(err) && !apierrors.IsServerTimeout(err) && !apierrors.IsTimeout(err) &&
		!apierrors.IsTooManyRequests(err) && !apierrors.IsInternalError(err)
}

// specManager is the manager that wrote the live set's spec, and whether it
// applied it server-side; "" (the client's default) when none is recorded.
func specManager(set *unstructured.Unstructured) (string, bool) {
	for _, entry := range set.GetManagedFields() {
		if entry.FieldsV1 != nil && bytes.Contains(entry.FieldsV1.Raw, []byte(`"f:spec"`)) {
			return entry.Manager, entry.Operation == metav1.ManagedFieldsOperationApply
		}
	}
	return "", false
}

// waitAdopted waits until every pod of the old set has the set uid as its
// controller, with the pod's own UID unchanged.
func (e *Expander) waitAdopted(ctx context.Context, p *SetPlan, uid types.UID) error {
	var pending string
	err := e.poll(ctx, func(ctx context.Context) (bool, error) {
		now, err := e.controlledPods(ctx, &unstructured.Unstructured{Object: map[string]any{
			"metadata": map[string]any{"namespace": p.Namespace, "uid": string(uid)},
		}})
		if err != nil && !answered(err) {
			return false, nil // the API server is away: wait for it
		}
		if err != nil {
			return false, err
		}
		for name, podUID := range p.Pods {
			if now[name] != podUID {
				pending = name
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("pod %s/%s was not adopted: %w", p.Namespace, pending, err)
	}
	return nil
}
