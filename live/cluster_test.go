package live

import (
	"context"
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

func claim(namespace, name string) *unstructured.Unstructured {
	return object("v1", "PersistentVolumeClaim", map[string]any{"namespace": namespace, "name": name})
}

func object(apiVersion, kind string, metadata map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": metadata}}
}

// fakeAPIServer serves objects through client-go's fake dynamic client.
func fakeAPIServer(objects ...runtime.Object) *fake.FakeDynamicClient {
	lists := map[schema.GroupVersionResource]string{
		claimsResource:  "PersistentVolumeClaimList",
		classesResource: "StorageClassList",
	}
	return fake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists, objects...)
}

func key(namespace, name string) renderer.ObjectKey {
	return renderer.ObjectKey{Namespace: namespace, Name: name}
}

// requests lists the verbs the fake API server saw, as "verb resource ns".
func requests(client *fake.FakeDynamicClient) []string {
	var seen []string
	for _, a := range client.Actions() {
		seen = append(seen, a.GetVerb()+" "+a.GetResource().Resource+" "+a.GetNamespace())
	}
	return seen
}

func TestClaimsUseTheFewestRequests(t *testing.T) {
	tests := []struct {
		name      string
		keys      []renderer.ObjectKey
		wantFound []renderer.ObjectKey
		wantCalls []string
	}{
		{
			name:      "one claim in a namespace is one GET",
			keys:      []renderer.ObjectKey{key("a", "data")},
			wantFound: []renderer.ObjectKey{key("a", "data")},
			wantCalls: []string{"get persistentvolumeclaims a"},
		},
		{
			name:      "several claims in a namespace are one LIST",
			keys:      []renderer.ObjectKey{key("a", "data"), key("a", "logs"), key("a", "missing")},
			wantFound: []renderer.ObjectKey{key("a", "data"), key("a", "logs")},
			wantCalls: []string{"list persistentvolumeclaims a"},
		},
		{
			name:      "a missing claim is absent, not an error",
			keys:      []renderer.ObjectKey{key("b", "missing")},
			wantCalls: []string{"get persistentvolumeclaims b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fakeAPIServer(claim("a", "data"), claim("a", "logs"), claim("a", "other"))
			found, err := (&Cluster{Client: client}).Claims(context.Background(), tt.keys)
			if err != nil {
				t.Fatal(err)
			}
			if len(found) != len(tt.wantFound) {
				t.Errorf("found %d claims, want %d", len(found), len(tt.wantFound))
			}
			for _, k := range tt.wantFound {
				if found[k] == nil || found[k].GetName() != k.Name {
					t.Errorf("claim %s not found", k)
				}
			}
			if got := strings.Join(requests(client), ", "); got != strings.Join(tt.wantCalls, ", ") {
				t.Errorf("requests = %s, want %s", got, strings.Join(tt.wantCalls, ", "))
			}
		})
	}
}

func TestStorageClasses(t *testing.T) {
	client := fakeAPIServer(object("storage.k8s.io/v1", "StorageClass", map[string]any{"name": "fast"}))
	found, err := (&Cluster{Client: client}).StorageClasses(context.Background(), []string{"fast", "gone"})
	if err != nil {
		t.Fatal(err)
	}
	if found["fast"] == nil || found["gone"] != nil || len(found) != 1 {
		t.Errorf("found %v, want only fast", found)
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	gr := schema.GroupResource{Resource: "persistentvolumeclaims"}
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"RBAC forbidden", apierrors.NewForbidden(gr, "data", nil), []string{"RBAC forbids get persistentvolumeclaims in namespace \"a\"", "examples/rbac.yaml"}},
		{"bad credentials", apierrors.NewUnauthorized("no"), []string{"rejected the credentials", "--kubeconfig"}},
		{"timeout", apierrors.NewTimeoutError("slow", 1), []string{"timed out", "--request-timeout"}},
		{"anything else", apierrors.NewInternalError(context.Canceled), []string{"cannot get persistentvolumeclaims", "https://api.example", "--live-state"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fakeAPIServer()
			client.PrependReactor("get", "persistentvolumeclaims", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tt.err
			})
			_, err := (&Cluster{Client: client, Host: "https://api.example"}).Claims(context.Background(), []renderer.ObjectKey{key("a", "data")})
			if err == nil {
				t.Fatal("want an error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}
