package audit

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// Cluster is the audit's view of the API server: live objects, read with one
// LIST per namespace and kind and kept for the whole audit, and dry-run
// requests, which the API server judges and never persists.
type Cluster struct {
	Client dynamic.Interface
	Mapper meta.RESTMapper

	mu    sync.Mutex
	lists map[listKey]map[string]*unstructured.Unstructured
	// Lists counts the LIST requests sent, DryRuns the dry-run requests.
	Lists, DryRuns int
}

type listKey struct {
	resource  schema.GroupVersionResource
	namespace string
}

var _ renderer.LiveState = (*Cluster)(nil)

// Objects implements renderer.LiveState from the same LISTs the audit
// reads, so rendering a revision costs no request of its own.
func (c *Cluster) Objects(ctx context.Context, kind renderer.GroupKind, keys []renderer.ObjectKey) (map[renderer.ObjectKey]*unstructured.Unstructured, error) {
	found := map[renderer.ObjectKey]*unstructured.Unstructured{}
	if len(keys) == 0 {
		return found, nil
	}
	mapping, err := c.Mapper.RESTMapping(schema.GroupKind{Group: kind.Group, Kind: kind.Kind})
	if meta.IsNoMatchError(err) {
		return found, nil // a kind the server does not serve has no live objects
	}
	if err != nil {
		return nil, fmt.Errorf("finding the resource of %s: %w", kind, err)
	}
	for _, key := range keys {
		obj, err := c.live(ctx, mapping, key.Namespace, key.Name)
		if err != nil {
			return nil, err
		}
		if obj != nil {
			found[key] = obj
		}
	}
	return found, nil
}

// mapping is where the API server serves an object's kind.
func (c *Cluster) mapping(obj *unstructured.Unstructured) (*meta.RESTMapping, error) {
	gvk := obj.GroupVersionKind()
	mapping, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s %s: the API server does not serve this kind: %w", gvk.Kind, obj.GetName(), err)
	}
	return mapping, nil
}

func namespaced(mapping *meta.RESTMapping) bool {
	return mapping.Scope.Name() == meta.RESTScopeNameNamespace
}

// live is the live object, or nil when it does not exist. The first call
// for a namespace and kind LISTs them all.
func (c *Cluster) live(ctx context.Context, mapping *meta.RESTMapping, namespace, name string) (*unstructured.Unstructured, error) {
	if !namespaced(mapping) {
		namespace = ""
	}
	key := listKey{mapping.Resource, namespace}
	c.mu.Lock()
	defer c.mu.Unlock()
	objects, ok := c.lists[key]
	if !ok {
		list, err := c.Client.Resource(mapping.Resource).Namespace(namespace).List(ctx, metav1.ListOptions{})
		c.Lists++
		if err != nil {
			where := "cluster-wide"
			if namespace != "" {
				where = "in namespace " + namespace
			}
			return nil, fmt.Errorf("listing %s %s: %w", mapping.Resource.Resource, where, err)
		}
		objects = make(map[string]*unstructured.Unstructured, len(list.Items))
		for i := range list.Items {
			objects[list.Items[i].GetName()] = &list.Items[i]
		}
		if c.lists == nil {
			c.lists = map[listKey]map[string]*unstructured.Unstructured{}
		}
		c.lists[key] = objects
	}
	return objects[name], nil
}

// dryRun sends the request with dryRun=All: the API server runs validation
// and admission and persists nothing.
func (c *Cluster) dryRun(ctx context.Context, r *request, forceConflicts bool) error {
	c.mu.Lock()
	c.DryRuns++
	c.mu.Unlock()
	client := c.Client.Resource(r.mapping.Resource).Namespace(r.namespace)
	dryRun := []string{metav1.DryRunAll}
	var err error
	switch r.method {
	case ClientSide:
		_, err = client.Patch(ctx, r.name, r.patchType, r.body, metav1.PatchOptions{DryRun: dryRun, FieldManager: fieldManager})
	case ServerSide:
		_, err = client.Patch(ctx, r.name, types.ApplyPatchType, r.body, metav1.PatchOptions{
			DryRun: dryRun, FieldManager: fieldManager, Force: &forceConflicts, FieldValidation: "Strict"})
	case Replace:
		_, err = client.Update(ctx, r.replacement, metav1.UpdateOptions{DryRun: dryRun, FieldManager: fieldManager, FieldValidation: "Strict"})
	default:
		err = fmt.Errorf("unknown apply method %q", r.method)
	}
	return err
}

// fieldManager is the Helm CLI's (kube.ManagedFieldsManager as the CLI sets
// it): server-side apply judges conflicts by manager.
const fieldManager = "helm"
