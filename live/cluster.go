package live

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// DefaultConcurrency bounds the API requests one render has in flight.
const DefaultConcurrency = 8

// Cluster reads live state from the API server. It only issues GET and LIST
// requests: the RBAC it needs is examples/rbac.yaml, plus read access to
// the kinds of any --rules file. It uses the dynamic client, which hands
// the renderer the maps it compares without typed round trips, and keeps
// client-go's typed API groups out of the post-renderer's start-up.
type Cluster struct {
	Client dynamic.Interface
	// Discovery serves /version, and /api and /apis for kinds outside the
	// built-in table (NewDiscoveryClient). Nil is fine for those kinds.
	Discovery rest.Interface
	// Host names the API server in error messages.
	Host string
	// Concurrency bounds requests in flight; 0 means DefaultConcurrency.
	Concurrency int

	discovered discovered
}

var _ renderer.LiveState = (*Cluster)(nil)

// NewCluster returns read-only access to the API server that config names.
func NewCluster(config *rest.Config) (*Cluster, error) {
	httpClient, err := rest.HTTPClientFor(config)
	if err != nil {
		return nil, fmt.Errorf("creating a Kubernetes client for %s: %w", config.Host, err)
	}
	client, err := dynamic.NewForConfigAndClient(config, httpClient)
	if err != nil {
		return nil, fmt.Errorf("creating a Kubernetes client for %s: %w", config.Host, err)
	}
	discovery, err := NewDiscoveryClient(config, httpClient)
	if err != nil {
		return nil, err
	}
	return &Cluster{Client: client, Discovery: discovery, Host: config.Host}, nil
}

// wanted is what one namespace (or, for a cluster-scoped kind, the whole
// cluster) is asked for: object name -> the keys that asked for it.
type wanted map[string][]renderer.ObjectKey

// keeper records an object found for the keys that asked for it.
type keeper func(obj *unstructured.Unstructured, keys []renderer.ObjectKey)

// Objects implements renderer.LiveState with the fewest requests: one GET
// where one object of the kind is wanted in a namespace, one LIST where
// several are. A kind the server does not serve has no live objects.
func (c *Cluster) Objects(ctx context.Context, kind renderer.GroupKind, keys []renderer.ObjectKey) (map[renderer.ObjectKey]*unstructured.Unstructured, error) {
	found := map[renderer.ObjectKey]*unstructured.Unstructured{}
	if len(keys) == 0 {
		return found, nil
	}
	res, err := c.resourceFor(ctx, kind)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return found, nil
	}
	byNamespace := map[string]wanted{}
	for _, key := range keys {
		namespace := key.Namespace
		if !res.namespaced {
			namespace = ""
		}
		if byNamespace[namespace] == nil {
			byNamespace[namespace] = wanted{}
		}
		byNamespace[namespace][key.Name] = append(byNamespace[namespace][key.Name], key)
	}
	var mu sync.Mutex
	keep := func(obj *unstructured.Unstructured, keys []renderer.ObjectKey) {
		mu.Lock()
		defer mu.Unlock()
		for _, key := range keys {
			found[key] = obj
		}
	}
	group, ctx := c.group(ctx)
	for namespace, names := range byNamespace {
		client := c.Client.Resource(res.GroupVersionResource).Namespace(namespace)
		group.Go(func() error {
			if len(names) == 1 {
				for name, keys := range names { // the one name
					return c.get(ctx, client, res, namespace, name, keys, keep)
				}
			}
			return c.list(ctx, client, res, namespace, names, keep)
		})
	}
	if err := group.Wait(); err != nil {
		return nil, err
	}
	return found, nil
}

func (c *Cluster) get(ctx context.Context, client dynamic.ResourceInterface, res *resource, namespace, name string, keys []renderer.ObjectKey, keep keeper) error {
	obj, err := client.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return c.explain(err, "get", res, namespace)
	}
	keep(obj, keys)
	return nil
}

// list reads a namespace's objects of the kind in one request. RBAC that
// grants get but not list (a Role with resourceNames, or the StorageClass
// rule of older examples/rbac.yaml) falls back to one GET per object.
func (c *Cluster) list(ctx context.Context, client dynamic.ResourceInterface, res *resource, namespace string, names wanted, keep keeper) error {
	list, err := client.List(ctx, metav1.ListOptions{})
	if apierrors.IsForbidden(err) {
		for name, keys := range names {
			if err := c.get(ctx, client, res, namespace, name, keys, keep); err != nil {
				return err
			}
		}
		return nil
	}
	if err != nil {
		return c.explain(err, "list", res, namespace)
	}
	for i := range list.Items {
		if keys, ok := names[list.Items[i].GetName()]; ok {
			keep(&list.Items[i], keys)
		}
	}
	return nil
}

func (c *Cluster) group(ctx context.Context) (*errgroup.Group, context.Context) {
	group, ctx := errgroup.WithContext(ctx)
	limit := c.Concurrency
	if limit <= 0 {
		limit = DefaultConcurrency
	}
	group.SetLimit(limit)
	return group, ctx
}

// explain turns an API error into a message that says what to do.
func (c *Cluster) explain(err error, verb string, res *resource, namespace string) error {
	scope := "cluster-wide"
	if namespace != "" {
		scope = fmt.Sprintf("in namespace %q", namespace)
	}
	resource := res.GroupResource().String()
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("RBAC forbids %s %s %s: grant verbs [%s] on resources [%s] in apiGroups [%q] (see examples/rbac.yaml) or pass --live-state: %w",
			verb, resource, scope, verb, res.Resource, res.Group, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the API server at %s rejected the credentials: check --kubeconfig and --kube-context: %w", c.Host, err)
	case apierrors.IsTimeout(err), apierrors.IsServerTimeout(err), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("timed out on %s %s %s at %s: raise --request-timeout or check the cluster: %w", verb, resource, scope, c.Host, err)
	}
	return fmt.Errorf("cannot %s %s %s at %s: check that the cluster is reachable with --kubeconfig and --kube-context, or pass --live-state: %w", verb, resource, scope, c.Host, err)
}
