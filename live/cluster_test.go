package live

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/pvc-guard/pvc-guard/renderer"
)

var (
	claimKind = renderer.GroupKind{Kind: "PersistentVolumeClaim"}
	pvKind    = renderer.GroupKind{Kind: "PersistentVolume"}
	classKind = renderer.GroupKind{Group: "storage.k8s.io", Kind: "StorageClass"}
	stsKind   = renderer.GroupKind{Group: "apps", Kind: "StatefulSet"}
)

func claim(namespace, name string) *unstructured.Unstructured {
	return object("v1", "PersistentVolumeClaim", map[string]any{"namespace": namespace, "name": name})
}

func object(apiVersion, kind string, metadata map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": metadata}}
}

// fakeAPIServer serves objects of the built-in kinds, and of extra
// resources, through client-go's fake dynamic client.
func fakeAPIServer(extra map[schema.GroupVersionResource]string, objects ...runtime.Object) *fake.FakeDynamicClient {
	lists := map[schema.GroupVersionResource]string{}
	for kind, res := range builtinResources {
		lists[res.GroupVersionResource] = kind.Kind + "List"
	}
	for gvr, list := range extra {
		lists[gvr] = list
	}
	return fake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists, objects...)
}

func key(namespace, name string) renderer.ObjectKey {
	return renderer.ObjectKey{Namespace: namespace, Name: name}
}

// requests lists the requests the fake API server saw, sorted, as
// "verb resource.group namespace".
func requests(client *fake.FakeDynamicClient) []string {
	var seen []string
	for _, a := range client.Actions() {
		seen = append(seen, strings.TrimSpace(a.GetVerb()+" "+a.GetResource().GroupResource().String()+" "+a.GetNamespace()))
	}
	slices.Sort(seen)
	return seen
}

func TestObjectsUseTheFewestRequests(t *testing.T) {
	tests := []struct {
		name      string
		kind      renderer.GroupKind
		keys      []renderer.ObjectKey
		wantFound []renderer.ObjectKey
		wantCalls []string
	}{
		{
			name:      "one claim in a namespace is one GET",
			kind:      claimKind,
			keys:      []renderer.ObjectKey{key("a", "data")},
			wantFound: []renderer.ObjectKey{key("a", "data")},
			wantCalls: []string{"get persistentvolumeclaims a"},
		},
		{
			name:      "several claims in a namespace are one LIST",
			kind:      claimKind,
			keys:      []renderer.ObjectKey{key("a", "data"), key("a", "logs"), key("a", "missing")},
			wantFound: []renderer.ObjectKey{key("a", "data"), key("a", "logs")},
			wantCalls: []string{"list persistentvolumeclaims a"},
		},
		{
			name:      "each namespace is counted apart",
			kind:      claimKind,
			keys:      []renderer.ObjectKey{key("a", "data"), key("a", "logs"), key("b", "data")},
			wantFound: []renderer.ObjectKey{key("a", "data"), key("a", "logs"), key("b", "data")},
			wantCalls: []string{"get persistentvolumeclaims b", "list persistentvolumeclaims a"},
		},
		{
			name:      "a key asked twice is one object",
			kind:      claimKind,
			keys:      []renderer.ObjectKey{key("a", "data"), key("a", "data")},
			wantFound: []renderer.ObjectKey{key("a", "data")},
			wantCalls: []string{"get persistentvolumeclaims a"},
		},
		{
			name:      "a missing claim is absent, not an error",
			kind:      claimKind,
			keys:      []renderer.ObjectKey{key("b", "missing")},
			wantCalls: []string{"get persistentvolumeclaims b"},
		},
		{
			name:      "a StatefulSet is read from its group",
			kind:      stsKind,
			keys:      []renderer.ObjectKey{key("a", "db")},
			wantFound: []renderer.ObjectKey{key("a", "db")},
			wantCalls: []string{"get statefulsets.apps a"},
		},
		{
			name:      "one cluster-scoped object is one GET without a namespace",
			kind:      classKind,
			keys:      []renderer.ObjectKey{key("", "fast")},
			wantFound: []renderer.ObjectKey{key("", "fast")},
			wantCalls: []string{"get storageclasses.storage.k8s.io"},
		},
		{
			name:      "several cluster-scoped objects are one LIST",
			kind:      pvKind,
			keys:      []renderer.ObjectKey{key("", "pv-1"), key("", "pv-2"), key("", "pv-gone")},
			wantFound: []renderer.ObjectKey{key("", "pv-1"), key("", "pv-2")},
			wantCalls: []string{"list persistentvolumes"},
		},
		{
			name:      "a namespace in a cluster-scoped key is ignored",
			kind:      pvKind,
			keys:      []renderer.ObjectKey{key("a", "pv-1"), key("b", "pv-2")},
			wantFound: []renderer.ObjectKey{key("a", "pv-1"), key("b", "pv-2")},
			wantCalls: []string{"list persistentvolumes"},
		},
		{
			name: "no keys, no requests",
			kind: claimKind,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fakeAPIServer(nil, claim("a", "data"), claim("a", "logs"), claim("a", "other"), claim("b", "data"),
				object("apps/v1", "StatefulSet", map[string]any{"namespace": "a", "name": "db"}),
				object("storage.k8s.io/v1", "StorageClass", map[string]any{"name": "fast"}),
				object("v1", "PersistentVolume", map[string]any{"name": "pv-1"}),
				object("v1", "PersistentVolume", map[string]any{"name": "pv-2"}),
				object("v1", "PersistentVolume", map[string]any{"name": "pv-3"}))
			found, err := (&Cluster{Client: client}).Objects(context.Background(), tt.kind, tt.keys)
			if err != nil {
				t.Fatal(err)
			}
			if len(found) != len(tt.wantFound) {
				t.Errorf("found %d objects, want %d", len(found), len(tt.wantFound))
			}
			for _, k := range tt.wantFound {
				if found[k] == nil || found[k].GetName() != k.Name || found[k].GetKind() != tt.kind.Kind {
					t.Errorf("%s %s not found", tt.kind, k)
				}
			}
			if got, want := strings.Join(requests(client), ", "), strings.Join(tt.wantCalls, ", "); got != want {
				t.Errorf("requests = %s, want %s", got, want)
			}
		})
	}
}

// TestForbiddenListFallsBackToGets: RBAC may grant get on named objects
// only (resourceNames), which can never allow a LIST.
func TestForbiddenListFallsBackToGets(t *testing.T) {
	client := fakeAPIServer(nil, object("storage.k8s.io/v1", "StorageClass", map[string]any{"name": "fast"}),
		object("storage.k8s.io/v1", "StorageClass", map[string]any{"name": "slow"}))
	client.PrependReactor("list", "storageclasses", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "storage.k8s.io", Resource: "storageclasses"}, "", nil)
	})
	found, err := (&Cluster{Client: client}).Objects(context.Background(), classKind, []renderer.ObjectKey{key("", "fast"), key("", "slow"), key("", "gone")})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 || found[key("", "fast")] == nil || found[key("", "slow")] == nil {
		t.Errorf("found %v, want fast and slow", found)
	}
	want := "get storageclasses.storage.k8s.io, get storageclasses.storage.k8s.io, get storageclasses.storage.k8s.io, list storageclasses.storage.k8s.io"
	if got := strings.Join(requests(client), ", "); got != want {
		t.Errorf("requests = %s, want %s", got, want)
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	tests := []struct {
		name      string
		kind      renderer.GroupKind
		keys      []renderer.ObjectKey
		err       error
		forbidden bool
		want      []string
	}{
		{
			name: "RBAC forbidden", kind: claimKind, keys: []renderer.ObjectKey{key("a", "data")},
			err:       apierrors.NewForbidden(schema.GroupResource{Resource: "persistentvolumeclaims"}, "data", nil),
			forbidden: true,
			want:      []string{`RBAC forbids get persistentvolumeclaims in namespace "a"`, `verbs [get] on resources [persistentvolumeclaims] in apiGroups [""]`, "examples/rbac.yaml"},
		},
		{
			name: "RBAC forbidden for a StatefulSet LIST", kind: stsKind, keys: []renderer.ObjectKey{key("a", "db"), key("a", "web")},
			err:       apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "statefulsets"}, "db", nil),
			forbidden: true,
			want:      []string{`RBAC forbids get statefulsets.apps in namespace "a"`, `verbs [get] on resources [statefulsets] in apiGroups ["apps"]`},
		},
		{
			name: "RBAC forbidden cluster-wide", kind: pvKind, keys: []renderer.ObjectKey{key("", "pv-1")},
			err:       apierrors.NewForbidden(schema.GroupResource{Resource: "persistentvolumes"}, "pv-1", nil),
			forbidden: true,
			want:      []string{"RBAC forbids get persistentvolumes cluster-wide"},
		},
		{name: "bad credentials", kind: claimKind, keys: []renderer.ObjectKey{key("a", "data")}, err: apierrors.NewUnauthorized("no"), want: []string{"rejected the credentials", "--kubeconfig"}},
		{name: "timeout", kind: claimKind, keys: []renderer.ObjectKey{key("a", "data")}, err: apierrors.NewTimeoutError("slow", 1), want: []string{"timed out", "--request-timeout"}},
		{name: "anything else", kind: claimKind, keys: []renderer.ObjectKey{key("a", "data")}, err: apierrors.NewInternalError(context.Canceled), want: []string{"cannot get persistentvolumeclaims", "https://api.example", "--live-state"}},
		{name: "a failed LIST", kind: claimKind, keys: []renderer.ObjectKey{key("a", "data"), key("a", "logs")}, err: apierrors.NewInternalError(context.Canceled), want: []string{`cannot list persistentvolumeclaims in namespace "a"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fakeAPIServer(nil)
			fail := func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, tt.err }
			// A forbidden LIST falls back to GETs, so both verbs fail.
			client.PrependReactor("get", "*", fail)
			client.PrependReactor("list", "*", fail)
			_, err := (&Cluster{Client: client, Host: "https://api.example"}).Objects(context.Background(), tt.kind, tt.keys)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if got := apierrors.IsForbidden(err); got != tt.forbidden {
				t.Errorf("apierrors.IsForbidden = %v, want %v", got, tt.forbidden)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("error %q does not wrap %q", err, tt.err)
			}
		})
	}
}
